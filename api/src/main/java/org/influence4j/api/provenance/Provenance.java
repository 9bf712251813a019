package org.influence4j.api.provenance;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.influence4j.api.internal.Json;

/**
 * The record of what produced a result (see the package comment): an <em>identity</em> of string
 * fields that determine the numbers, compared field by field before results are combined, and
 * <em>diagnostics</em> (JSON values: numbers, strings, booleans, lists, objects) that describe the
 * computation and are never compared. Immutable; the identity is kept sorted by key, so equal
 * identities have equal JSON text and equal {@link #runId()}s.
 *
 * <p>JSON form ({@link #toJson()}): {@code {"format": "influence4j-provenance/1", "run_id": "…",
 * "identity": {key: value, …}, "diagnostics": {…}}}.
 */
public final class Provenance {

    /** The {@code format} value of the JSON form. */
    public static final String FORMAT = "influence4j-provenance/1";

    private final SortedMap<String, String> identity;
    private final Map<String, Object> diagnostics;

    private Provenance(SortedMap<String, String> identity, Map<String, Object> diagnostics) {
        this.identity = Collections.unmodifiableSortedMap(identity);
        this.diagnostics = Collections.unmodifiableMap(diagnostics);
    }

    /** @return a provenance with no fields */
    public static Provenance empty() {
        return new Provenance(new TreeMap<>(), new LinkedHashMap<>());
    }

    /**
     * @param key   the field name, e.g. {@code "lambda"} or {@code "train.sha256"}
     * @param value its value; numbers as {@link String#valueOf} writes them (so {@code 0.1} and
     *              {@code 0.10} given as doubles are equal)
     * @return a copy with the identity field set (replacing an earlier value)
     * @throws IllegalArgumentException naming the key when the key is blank or the value null
     */
    public Provenance with(String key, Object value) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("key: must not be blank");
        }
        if (value == null) {
            throw new IllegalArgumentException("value of '" + key + "': must not be null; leave the field out");
        }
        SortedMap<String, String> copy = new TreeMap<>(identity);
        copy.put(key, String.valueOf(value));
        return new Provenance(copy, new LinkedHashMap<>(diagnostics));
    }

    /** @return a copy with every entry of {@code fields} set as identity fields, keys prefixed by {@code prefix} */
    public Provenance withAll(String prefix, Map<String, ?> fields) {
        Provenance out = this;
        for (Map.Entry<String, ?> e : new TreeMap<>(fields).entrySet()) {
            out = out.with(prefix + e.getKey(), e.getValue());
        }
        return out;
    }

    /**
     * @param key   the diagnostic's name, e.g. {@code "solver"}
     * @param value a JSON value (Number, String, Boolean, List, Map or null)
     * @return a copy with the diagnostic set (replacing an earlier value)
     */
    public Provenance withDiagnostic(String key, Object value) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("key: must not be blank");
        }
        Map<String, Object> copy = new LinkedHashMap<>(diagnostics);
        copy.put(key, value);
        return new Provenance(new TreeMap<>(identity), copy);
    }

    /** @return the identity fields, sorted by key (unmodifiable) */
    public SortedMap<String, String> identity() {
        return identity;
    }

    /** @return the diagnostics, in the order they were set (unmodifiable) */
    public Map<String, Object> diagnostics() {
        return diagnostics;
    }

    /**
     * @return the first 16 hex digits of the SHA-256 of the identity's JSON text: equal identities
     *     give equal run ids, and a run id names its run in checkpoint metadata and messages
     */
    public String runId() {
        return Fingerprints.sha256(Json.write(identity)).substring(0, 16);
    }

    /**
     * The identity fields in which {@code recorded} (the record of an existing result) differs from
     * this one, each as one phrase: {@code "lambda is 0.1 there but 5.0 now"}, {@code "method is
     * missing there"}, …; empty when the identities are equal.
     */
    public List<String> differences(Provenance recorded) {
        List<String> out = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(identity.keySet());
        keys.addAll(recorded.identity.keySet());
        for (String key : keys) {
            String now = identity.get(key);
            String there = recorded.identity.get(key);
            if (Objects.equals(now, there)) {
                continue;
            }
            if (there == null) {
                out.add(key + " is missing there (now " + now + ")");
            } else if (now == null) {
                out.add(key + " is " + there + " there but not set now");
            } else {
                out.add(key + " is " + there + " there but " + now + " now");
            }
        }
        return out;
    }

    /**
     * @param what     what is about to be combined, e.g. {@code "the Zarr store /data/x.zarr"}
     * @param recorded the record of the existing result
     * @throws ProvenanceMismatchException naming every differing field when the identities differ
     */
    public void requireSameRun(String what, Provenance recorded) {
        List<String> diffs = differences(recorded);
        if (!diffs.isEmpty()) {
            throw new ProvenanceMismatchException(what, diffs);
        }
    }

    /** @return the JSON form (see the class comment), for {@link Json#write} */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("run_id", runId());
        m.put("identity", new LinkedHashMap<String, Object>(identity));
        m.put("diagnostics", new LinkedHashMap<>(diagnostics));
        return m;
    }

    /**
     * Reads the JSON form.
     *
     * @param parsed a value returned by {@link Json#parse}
     * @param source the file or place it came from, for messages
     * @throws IllegalArgumentException naming {@code source} and the field when it is not a provenance record
     */
    public static Provenance fromJson(Object parsed, String source) {
        if (!(parsed instanceof Map<?, ?> m) || !FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("provenance: " + source + " is not an influence4j provenance record"
                    + " (\"format\": \"" + FORMAT + "\" expected)");
        }
        if (!(m.get("identity") instanceof Map<?, ?> id)) {
            throw new IllegalArgumentException("provenance: " + source + " has no \"identity\" object");
        }
        SortedMap<String, String> identity = new TreeMap<>();
        for (Map.Entry<?, ?> e : id.entrySet()) {
            if (!(e.getValue() instanceof String value)) {
                throw new IllegalArgumentException("provenance: " + source + ": identity field '" + e.getKey()
                        + "' is not a string");
            }
            identity.put(String.valueOf(e.getKey()), value);
        }
        Map<String, Object> diagnostics = new LinkedHashMap<>();
        if (m.get("diagnostics") instanceof Map<?, ?> d) {
            d.forEach((k, v) -> diagnostics.put(String.valueOf(k), v));
        } else if (m.get("diagnostics") != null) {
            throw new IllegalArgumentException("provenance: " + source + ": \"diagnostics\" is not an object");
        }
        return new Provenance(identity, diagnostics);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Provenance p && identity.equals(p.identity) && diagnostics.equals(p.diagnostics);
    }

    @Override
    public int hashCode() {
        return Objects.hash(identity, diagnostics);
    }

    @Override
    public String toString() {
        return "Provenance[run " + runId() + ", " + identity + "]";
    }
}
