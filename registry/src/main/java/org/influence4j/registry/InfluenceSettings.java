package org.influence4j.registry;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.configuration2.ImmutableConfiguration;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * The validated core settings of influence4j, as algorithms and factories receive them (never a
 * {@code Configuration}).
 *
 * @param backend               backend name (e.g. {@code djl-pytorch}); empty means the best-ranked
 *                              available backend
 * @param method                the inversion method used for H⁻¹ (any name: whether a solver is
 *                              registered for it is checked by {@link InfluenceModelFactory})
 * @param hessianRegularization λ ≥ 0 added to the Hessian of the <em>mean</em> training loss
 *                              (pyDVL's {@code hessian_regularization}; Captum's summed-loss
 *                              {@code hessian_reg} equals n·λ)
 * @param batchSize             samples per batch for gradients and Hessian-vector products, ≥ 1
 * @param solverSettings        short-keyed settings per method, from
 *                              {@code influence.inversion.<method>.*} (every method name found
 *                              there, built in or not); methods without settings may be absent
 * @param curvature             the matrix the solvers invert ({@code influence.curvature})
 * @param keptMegabytes         the native memory (MiB, ≥ 0) in which the data passes over the
 *                              curvature keep their recorded passes
 *                              ({@code influence.curvature.kept.megabytes}; 0: none)
 */
public record InfluenceSettings(String backend, InversionMethod method, double hessianRegularization,
                                int batchSize, Map<InversionMethod, SolverSettings> solverSettings,
                                Curvature curvature, int keptMegabytes) {

    /** Settings with the default memory for kept passes ({@link ConfigKeys#KEPT_MEGABYTES_SETTING}). */
    public InfluenceSettings(String backend, InversionMethod method, double hessianRegularization, int batchSize,
                             Map<InversionMethod, SolverSettings> solverSettings, Curvature curvature) {
        this(backend, method, hessianRegularization, batchSize, solverSettings, curvature,
                ConfigKeys.KEPT_MEGABYTES_SETTING.defaultValue());
    }

    /** Settings with the default curvature ({@link ConfigKeys#CURVATURE_SETTING}: the Hessian). */
    public InfluenceSettings(String backend, InversionMethod method, double hessianRegularization, int batchSize,
                             Map<InversionMethod, SolverSettings> solverSettings) {
        this(backend, method, hessianRegularization, batchSize, solverSettings,
                ConfigKeys.CURVATURE_SETTING.defaultValue());
    }

    /**
     * Validates and copies the values.
     *
     * @throws IllegalArgumentException naming the configuration key of a bad value and the fix
     */
    public InfluenceSettings {
        backend = backend == null ? "" : backend.trim();
        if (method == null) {
            throw new IllegalArgumentException(ConfigKeys.INVERSION_METHOD + " must not be null; use one of "
                    + builtInNames() + " or a method a plugin registers");
        }
        if (!Double.isFinite(hessianRegularization) || hessianRegularization < 0) {
            throw new IllegalArgumentException(ConfigKeys.HESSIAN_REGULARIZATION + " must be a finite number >= 0, got "
                    + hessianRegularization);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException(ConfigKeys.BATCH_SIZE + " must be >= 1, got " + batchSize);
        }
        if (curvature == null) {
            throw new IllegalArgumentException(ConfigKeys.CURVATURE + " must not be null; use " + Curvature.VALUES);
        }
        if (keptMegabytes < 0) {
            throw new IllegalArgumentException(ConfigKeys.KEPT_MEGABYTES + " must be >= 0, got " + keptMegabytes
                    + "; use 0 to keep no passes");
        }
        TreeMap<InversionMethod, SolverSettings> copy = new TreeMap<>();
        if (solverSettings != null) {
            for (Map.Entry<InversionMethod, SolverSettings> e : solverSettings.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("solverSettings must not hold null methods or settings");
                }
                copy.put(e.getKey(), e.getValue());
            }
        }
        solverSettings = java.util.Collections.unmodifiableMap(copy);
    }

    /** Settings without solver-specific values: every solver uses its defaults. */
    public InfluenceSettings(String backend, InversionMethod method, double hessianRegularization, int batchSize) {
        this(backend, method, hessianRegularization, batchSize, Map.of());
    }

    /** @return the settings of {@code method}'s solver ({@link SolverSettings#empty()} if none) */
    public SolverSettings solverSettings(InversionMethod method) {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        return solverSettings.getOrDefault(method, SolverSettings.empty());
    }

    /** @return the settings of the configured {@link #method()}'s solver */
    public SolverSettings methodSettings() {
        return solverSettings(method);
    }

    /** @return a copy with another backend name (empty = best ranked) */
    public InfluenceSettings withBackend(String name) {
        return new InfluenceSettings(name, method, hessianRegularization, batchSize, solverSettings, curvature, keptMegabytes);
    }

    /** @return a copy with another inversion method (its solver settings are kept) */
    public InfluenceSettings withMethod(InversionMethod m) {
        return new InfluenceSettings(backend, m, hessianRegularization, batchSize, solverSettings, curvature, keptMegabytes);
    }

    /**
     * @param m     the method whose settings change
     * @param key   a short key of that method's settings (e.g. {@code allow_unconverged})
     * @param value its value as a user writes it
     * @return a copy whose settings of {@code m} hold {@code key = value} besides their other values
     */
    public InfluenceSettings withSolverSetting(InversionMethod m, String key, String value) {
        Map<String, String> values = new java.util.LinkedHashMap<>(solverSettings(m).asMap());
        values.put(key, value);
        Map<InversionMethod, SolverSettings> all = new TreeMap<>(solverSettings);
        all.put(m, SolverSettings.of(values));
        return new InfluenceSettings(backend, method, hessianRegularization, batchSize, all, curvature, keptMegabytes);
    }

    /** @return a copy with another curvature */
    public InfluenceSettings withCurvature(Curvature c) {
        return new InfluenceSettings(backend, method, hessianRegularization, batchSize, solverSettings, c, keptMegabytes);
    }

    /**
     * Reads and validates the core keys of {@link ConfigKeys} from {@code config} (typically from
     * {@link InfluenceConfiguration#load()}, whose class-path defaults set every key). A key that
     * is absent altogether falls back to the same defaults, the declared ones of
     * {@link ConfigKeys#SETTINGS}. A key that is present but empty is an error, except
     * {@link ConfigKeys#BACKEND}. The method may be any well-formed name (a plugin's method too);
     * {@link InfluenceModelFactory} checks that a solver is registered for it. The solver settings
     * of every method named under {@code influence.inversion.} are read.
     *
     * @throws IllegalArgumentException naming the key and the accepted values when a value is invalid
     */
    public static InfluenceSettings from(ImmutableConfiguration config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null; use InfluenceConfiguration.load()");
        }
        String backend = string(config, ConfigKeys.BACKEND, ConfigKeys.BACKEND_SETTING.defaultText());
        String methodName = string(config, ConfigKeys.INVERSION_METHOD,
                ConfigKeys.INVERSION_METHOD_SETTING.defaultText());
        InversionMethod method;
        try {
            method = InversionMethod.parse(methodName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ConfigKeys.INVERSION_METHOD + ": '" + methodName
                    + "' is not a method name; use one of " + builtInNames() + " or a method a plugin registers", e);
        }
        String regText = string(config, ConfigKeys.HESSIAN_REGULARIZATION,
                ConfigKeys.HESSIAN_REGULARIZATION_SETTING.defaultText());
        double reg;
        try {
            reg = Double.parseDouble(regText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(ConfigKeys.HESSIAN_REGULARIZATION + ": '" + regText
                    + "' is not a number; give a value >= 0 such as 0.01", e);
        }
        int batch = integer(config, ConfigKeys.BATCH_SIZE_SETTING, ">= 1");
        TreeMap<InversionMethod, SolverSettings> solvers = new TreeMap<>();
        for (InversionMethod m : methodsWithSettings(config)) {
            SolverSettings s = solverSettings(config, m);
            if (!s.asMap().isEmpty()) {
                solvers.put(m, s);
            }
        }
        String curvatureText = string(config, ConfigKeys.CURVATURE, ConfigKeys.CURVATURE_SETTING.defaultText());
        Curvature curvature;
        try {
            curvature = Curvature.parse(curvatureText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ConfigKeys.CURVATURE + ": unknown value '" + curvatureText
                    + "'; use " + Curvature.VALUES, e);
        }
        int kept = integer(config, ConfigKeys.KEPT_MEGABYTES_SETTING, ">= 0");
        return new InfluenceSettings(backend, method, reg, batch, solvers, curvature, kept);
    }

    /**
     * @param range the accepted values, for the message (the record's checks enforce them)
     * @return the integer {@code setting} has in {@code config}, or its default
     * @throws IllegalArgumentException naming the key if the value is not an integer
     */
    private static int integer(ImmutableConfiguration config, Setting<Integer> setting, String range) {
        String text = string(config, setting.key(), setting.defaultText());
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting.key() + ": '" + text + "' is not an integer; give a value "
                    + range + " such as " + setting.defaultText(), e);
        }
    }

    /** @return {@link #keptMegabytes()} in bytes */
    public long keptStateBytes() {
        return (long) keptMegabytes << 20;
    }

    /**
     * @return the short-keyed settings under {@code influence.inversion.<method>.} in {@code config};
     *     a list value is joined with commas
     */
    public static SolverSettings solverSettings(ImmutableConfiguration config, InversionMethod method) {
        String prefix = ConfigKeys.solverPrefix(method);
        String bare = prefix.substring(0, prefix.length() - 1);
        Map<String, String> values = new TreeMap<>();
        for (Iterator<String> it = config.getKeys(bare); it.hasNext(); ) {
            String key = it.next();
            if (!key.startsWith(prefix) || key.length() == prefix.length()) {
                continue;
            }
            List<String> parts = config.getList(String.class, key, List.of());
            values.put(key.substring(prefix.length()), String.join(",", parts).trim());
        }
        return SolverSettings.of(values);
    }

    private static String string(ImmutableConfiguration config, String key, String fallback) {
        if (!config.containsKey(key)) {
            return fallback;
        }
        List<String> parts = config.getList(String.class, key, List.of());
        if (parts.isEmpty()) {
            parts = List.of("");
        }
        if (parts.size() > 1) {
            throw new IllegalArgumentException(key + ": expected one value, got the list " + parts);
        }
        String v = parts.get(0) == null ? "" : parts.get(0).trim();
        if (v.isEmpty() && !ConfigKeys.BACKEND.equals(key)) {
            throw new IllegalArgumentException(key + " is set but empty; give a value (default: " + fallback
                    + ") or remove the setting");
        }
        return v;
    }

    /**
     * @return the methods named by keys {@code influence.inversion.<method>.<setting>} in {@code config}
     * @throws IllegalArgumentException naming a key whose method part is not a method name
     */
    private static List<InversionMethod> methodsWithSettings(ImmutableConfiguration config) {
        String bare = ConfigKeys.INVERSION_PREFIX.substring(0, ConfigKeys.INVERSION_PREFIX.length() - 1);
        TreeMap<InversionMethod, Boolean> found = new TreeMap<>();
        for (Iterator<String> it = config.getKeys(bare); it.hasNext(); ) {
            String key = it.next();
            if (!key.startsWith(ConfigKeys.INVERSION_PREFIX)) {
                continue;
            }
            String rest = key.substring(ConfigKeys.INVERSION_PREFIX.length());
            int dot = rest.indexOf('.');
            if (dot <= 0 || dot == rest.length() - 1) {
                continue;
            }
            String name = rest.substring(0, dot);
            if (!ConfigKeys.isMethodName(name)) {
                throw new IllegalArgumentException(key + ": '" + name + "' is not a method name; write solver"
                        + " settings as " + ConfigKeys.INVERSION_PREFIX + "<method>.<setting> with the method's"
                        + " name in lowercase letters and digits, e.g. " + ConfigKeys.INVERSION_PREFIX + "cg.rtol");
            }
            found.put(InversionMethod.of(name), Boolean.TRUE);
        }
        return List.copyOf(found.keySet());
    }

    private static List<String> builtInNames() {
        return InversionMethod.builtIn().stream().map(InversionMethod::configName).toList();
    }
}
