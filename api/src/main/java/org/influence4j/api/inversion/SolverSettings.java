package org.influence4j.api.inversion;

import java.util.Map;
import java.util.TreeMap;

/**
 * Immutable string settings of one solver, with short keys (e.g. {@code rtol}, {@code maxiter})
 * taken from the configuration prefix {@code influence.inversion.<method>.}. Solver factories
 * turn them into typed option records; unknown keys are reported by {@link #requireOnly}.
 */
public final class SolverSettings {

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
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("solver setting '" + key + "': '" + v + "' is not a number");
        }
    }

    /** @throws IllegalArgumentException naming the key when the value is not an integer */
    public int getInt(String key, int fallback) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("solver setting '" + key + "': '" + v + "' is not an integer");
        }
    }

    /** @throws IllegalArgumentException naming the key when the value is not true/false */
    public boolean getBoolean(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("solver setting '" + key + "': '" + v
                    + "' is not true or false");
        };
    }

    /**
     * @throws IllegalArgumentException if a key other than {@code known} is present (typos)
     */
    public void requireOnly(String solver, java.util.Set<String> known) {
        for (String key : values.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("solver setting '" + key + "' is not known to the " + solver
                        + " solver; known settings: " + new java.util.TreeSet<>(known));
            }
        }
    }

    @Override
    public String toString() {
        return "SolverSettings" + new TreeMap<>(values);
    }
}
