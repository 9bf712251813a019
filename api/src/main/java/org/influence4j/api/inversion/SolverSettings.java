package org.influence4j.api.inversion;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Immutable string settings of one solver, with short keys (e.g. {@code rtol}, {@code maxiter})
 * taken from the configuration prefix {@code influence.inversion.<method>.}. Solver factories
 * turn them into typed option records through their {@link Setting declarations}
 * ({@link #get(Setting)}); unknown keys are reported by {@link #requireDeclared}.
 */
public final class SolverSettings {

    /**
     * The key by which an iterative method declares its opt-in to keep the solutions of a solve that
     * missed its tolerance (recorded as {@code converged = false}) instead of failing with
     * {@link InversionException.Reason#NOT_CONVERGED}; the command line's {@code --allow-unconverged}
     * sets it for the chosen method.
     */
    public static final String ALLOW_UNCONVERGED = "allow_unconverged";

    private static final SolverSettings EMPTY = new SolverSettings(Map.of());
    private final Map<String, String> values;

    private SolverSettings(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** @return settings holding a copy of {@code values} */
    public static SolverSettings of(Map<String, String> values) {
        return values == null || values.isEmpty() ? EMPTY : new SolverSettings(values);
    }

    /** @return no settings: every solver uses its defaults */
    public static SolverSettings empty() {
        return EMPTY;
    }

    /** @return the raw values (unmodifiable) */
    public Map<String, String> asMap() {
        return values;
    }

    /** @return the value for {@code key}, or {@code fallback} */
    public String get(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    /** @throws IllegalArgumentException naming the key when the value is not a number */
    public double getDouble(String key, double fallback) {
        String v = values.get(key);
        return v == null || v.isBlank() ? fallback : parseDouble(key, v);
    }

    /** @throws IllegalArgumentException naming the key when the value is not an integer */
    public int getInt(String key, int fallback) {
        String v = values.get(key);
        return v == null || v.isBlank() ? fallback : parseInt(key, v);
    }

    /** @throws IllegalArgumentException naming the key when the value is not true/false */
    public boolean getBoolean(String key, boolean fallback) {
        String v = values.get(key);
        return v == null || v.isBlank() ? fallback : parseBoolean(key, v);
    }

    /** @return the value of {@code setting} here, or its default (see {@link Setting#read}) */
    public <T> T get(Setting<T> setting) {
        return setting.read(this);
    }

    /**
     * @throws IllegalArgumentException if a key other than {@code known} is present (typos)
     */
    public void requireOnly(String solver, Set<String> known) {
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("solver setting '" + key + "' is not known to the " + solver
                        + " solver; known settings: " + new TreeSet<>(known));
            }
        }
    }

    /**
     * {@link #requireOnly} with the keys of {@code declared}, then every declared value parsed once.
     *
     * @param solver   the method's name, for the message
     * @param declared the settings the solver declares
     * @throws IllegalArgumentException naming an unknown key (and listing the known ones) or a value
     *     that does not parse
     */
    public void requireDeclared(String solver, List<? extends Setting<?>> declared) {
        Set<String> keys = new LinkedHashSet<>();
        for (Setting<?> s : declared) {
            keys.add(s.key());
        }
        requireOnly(solver, keys);
        for (Setting<?> s : declared) {
            s.read(this);
        }
    }

    static double parseDouble(String key, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("solver setting '" + key + "': '" + v + "' is not a number");
        }
    }

    static int parseInt(String key, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("solver setting '" + key + "': '" + v + "' is not an integer");
        }
    }

    static boolean parseBoolean(String key, String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("solver setting '" + key + "': '" + v
                    + "' is not true or false");
        };
    }

    @Override
    public String toString() {
        return "SolverSettings" + new TreeMap<>(values);
    }
}
