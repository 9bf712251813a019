package org.influence4j.registry;

import java.util.List;
import java.util.Locale;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.DataHessianOperator;

/**
 * The configuration keys of influence4j's core, read by {@link InfluenceConfiguration} and turned
 * into {@link InfluenceSettings}. Keys are lowercase and dotted; the matching environment variable
 * is the key in upper case with dots replaced by underscores ({@link #environmentName}), e.g.
 * {@code influence.inversion.method} ↔ {@code INFLUENCE_INVERSION_METHOD}.
 *
 * <p>Solver settings live under {@code influence.inversion.<method>.} (see
 * {@link #solverPrefix(InversionMethod)}): {@code influence.inversion.cg.rtol=1e-8} becomes the
 * short setting {@code rtol} of the CG solver. Their environment form is
 * {@code INFLUENCE_INVERSION_CG_RTOL}; underscores after the method name stay part of the short
 * key ({@code INFLUENCE_INVERSION_ARNOLDI_RANK_ESTIMATE} → {@code rank_estimate}). The method names
 * are open (a plugin may add one), so every {@code influence.inversion.<name>.<setting>} key is read.
 *
 * <p>The core keys are declared once, with their types, defaults and documentation, in
 * {@link #SETTINGS}; the class-path defaults file and the README are tested against them.
 */
public final class ConfigKeys {

    /** Common prefix of every key. */
    public static final String PREFIX = "influence.";

    /** Backend name ({@code djl-pytorch}, {@code djl-tf}, {@code nd4j}); empty = best-ranked available. */
    public static final String BACKEND = "influence.backend";

    /** Inversion method: {@code direct}, {@code cg}, {@code lissa}, {@code arnoldi}, {@code ekfac}, {@code nystroem}, or a plugin's. */
    public static final String INVERSION_METHOD = "influence.inversion.method";

    /** λ ≥ 0 added to the Hessian of the mean training loss: H + λI. */
    public static final String HESSIAN_REGULARIZATION = "influence.hessian.regularization";

    /** Curvature the solvers invert: {@code hessian} (default), {@code gauss-newton} (layer graphs) or
     * {@code empirical-fisher} (pyDVL's GAUSS_NEWTON mode). */
    public static final String CURVATURE = "influence.curvature";

    /**
     * Native memory (MiB, ≥ 0) in which the data passes over the curvature keep the recorded passes
     * of their first batches, so that later passes sweep them only (0: none).
     */
    public static final String KEPT_MEGABYTES = "influence.curvature.kept.megabytes";

    /** Number of samples per batch when gradients and Hessian-vector products are computed (≥ 1). */
    public static final String BATCH_SIZE = "influence.batch.size";

    /**
     * Guice modules (class names, comma-separated; each with a public no-argument constructor) that
     * {@link InfluenceModule#configuredModules} instantiates to be installed beside
     * {@link InfluenceModule}, e.g. to bind the {@code Backend} with {@code OptionalBinder.setBinding()}.
     * Empty: none.
     */
    public static final String GUICE_MODULES = "influence.guice.modules";

    /** Prefix of the solver settings: {@code influence.inversion.<method>.<setting>}. */
    public static final String INVERSION_PREFIX = "influence.inversion.";

    /** System property (and, as {@code INFLUENCE4J_CONFIG}, environment variable) naming the user file. */
    public static final String CONFIG_FILE_PROPERTY = "influence4j.config";

    /** Environment variable naming the user configuration file. */
    public static final String CONFIG_FILE_ENV = "INFLUENCE4J_CONFIG";

    /** Names of the user files looked for in the working directory, in this order. */
    public static final java.util.List<String> DEFAULT_FILE_NAMES =
            java.util.List.of("influence4j.properties", "influence4j.yaml", "influence4j.yml");

    /** Class-path resource holding the documented defaults. */
    public static final String DEFAULTS_RESOURCE = "org/influence4j/registry/influence4j-defaults.properties";

    /** {@value #BACKEND}, declared: empty = the best-ranked available backend. */
    public static final Setting<String> BACKEND_SETTING = Setting.ofString(BACKEND, "",
            "backend name (djl-pytorch, djl-tf, nd4j); empty = best available");

    /** {@value #GUICE_MODULES}, declared: empty = none. */
    public static final Setting<String> GUICE_MODULES_SETTING = Setting.ofString(GUICE_MODULES, "",
            "Guice modules (class names) installed beside InfluenceModule by programs that read this key");

    /** {@value #INVERSION_METHOD}, declared: {@code direct}, pyDVL's default. */
    public static final Setting<InversionMethod> INVERSION_METHOD_SETTING = Setting.of(INVERSION_METHOD,
            InversionMethod.class, InversionMethod.DIRECT, InversionMethod::parse, InversionMethod::configName,
            "how H^-1 is applied: a registered method (direct, cg, lissa, arnoldi, nystroem, ekfac, or a plugin's)");

    /** {@value #HESSIAN_REGULARIZATION}, declared: the λ of {@link InfluenceOptions#defaults()} (0). */
    public static final Setting<Double> HESSIAN_REGULARIZATION_SETTING = Setting.ofDouble(HESSIAN_REGULARIZATION,
            InfluenceOptions.defaults().hessianRegularization(), "lambda >= 0 added to the Hessian of the mean training loss");

    /** {@value #CURVATURE}, declared: the curvature of {@link InfluenceOptions#defaults()} ({@code hessian}). */
    public static final Setting<Curvature> CURVATURE_SETTING = Setting.of(CURVATURE, Curvature.class,
            InfluenceOptions.defaults().curvature(), Curvature::parse, Curvature::key,
            "the matrix inverted (+ lambda*I): hessian, gauss-newton or empirical-fisher");

    /** {@value #KEPT_MEGABYTES}, declared: {@link DataHessianOperator#DEFAULT_KEPT_STATE_BYTES} in MiB (256). */
    public static final Setting<Integer> KEPT_MEGABYTES_SETTING = Setting.ofInt(KEPT_MEGABYTES,
            (int) (DataHessianOperator.DEFAULT_KEPT_STATE_BYTES >> 20),
            "MiB in which curvature data passes keep their recorded passes (>= 0; 0 = none)");

    /** {@value #BATCH_SIZE}, declared: {@link InfluenceOptions#DEFAULT_BATCH_SIZE}. */
    public static final Setting<Integer> BATCH_SIZE_SETTING = Setting.ofInt(BATCH_SIZE,
            InfluenceOptions.DEFAULT_BATCH_SIZE, "samples per gradient / HVP pass (>= 1)");

    /**
     * The core settings, declared once (full keys). The solver settings
     * {@code influence.inversion.<method>.*} are declared by each method
     * ({@link InfluenceModelFactory#declaredSettings()}).
     */
    public static final List<Setting<?>> SETTINGS = List.of(BACKEND_SETTING, GUICE_MODULES_SETTING,
            INVERSION_METHOD_SETTING, HESSIAN_REGULARIZATION_SETTING, CURVATURE_SETTING, KEPT_MEGABYTES_SETTING,
            BATCH_SIZE_SETTING);

    private ConfigKeys() {
    }

    /**
     * @return {@code influence.inversion.<method>.}, e.g. {@code influence.inversion.cg.}
     * @throws IllegalArgumentException if {@code method} is null
     */
    public static String solverPrefix(InversionMethod method) {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        return INVERSION_PREFIX + method.configName() + ".";
    }

    /**
     * @return the environment variable for {@code key}: upper case, dots and dashes replaced by
     *     underscores (e.g. {@code INFLUENCE_HESSIAN_REGULARIZATION})
     */
    public static String environmentName(String key) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("key must not be blank");
        }
        return key.trim().toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * The configuration key an influence4j environment variable stands for, or {@code null} if the
     * variable is not one ({@code INFLUENCE_} prefix, all upper case). {@code INFLUENCE_A_B} becomes
     * {@code influence.a.b}; for {@code INFLUENCE_INVERSION_<METHOD>_<SETTING>} (any method name:
     * method names have no underscores) everything after the method is one short key, lower-cased
     * with its underscores kept.
     */
    public static String keyForEnvironmentName(String name) {
        String envPrefix = environmentName(PREFIX.substring(0, PREFIX.length() - 1)) + "_";
        if (name == null || !name.startsWith(envPrefix) || name.length() == envPrefix.length()
                || !name.equals(name.toUpperCase(Locale.ROOT))) {
            return null;
        }
        String rest = name.substring(envPrefix.length()).toLowerCase(Locale.ROOT);
        String inversion = "inversion_";
        if (rest.startsWith(inversion)) {
            String afterInversion = rest.substring(inversion.length());
            int end = afterInversion.indexOf('_');
            if (end > 0 && end < afterInversion.length() - 1) {
                String method = afterInversion.substring(0, end);
                if (isMethodName(method)) {
                    return INVERSION_PREFIX + method + "." + afterInversion.substring(end + 1);
                }
            }
        }
        return PREFIX + rest.replace('_', '.');
    }

    /** @return whether {@code name} is a method name exactly as {@link InversionMethod#of} accepts it */
    static boolean isMethodName(String name) {
        try {
            InversionMethod.of(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
