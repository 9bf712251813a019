package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Settings of the {@link LissaSolver}, with pyDVL's names and defaults ({@code LissaInfluence}),
 * each declared once as a {@link Setting} ({@link #SETTINGS}).
 *
 * @param maxIterations iteration limit, ≥ 1 ({@link #MAXITER})
 * @param dampen        dampening d in [0, 1) ({@link #DAMPEN}); d &gt; 0 solves {@code (A + s·d·I) x = b},
 *                      i.e. adds s·d to the regularization
 * @param scale         scaling s &gt; 0 ({@link #SCALE}); convergence needs every eigenvalue of A in
 *                      {@code (−s·d, (2 − d)·s)}, i.e. s above half the largest eigenvalue of A
 * @param rtol          stop when the relative residual {@code ‖b − (d·s·I + A) x‖ / ‖b‖ ≤ rtol}
 *                      ({@link #RTOL}; pyDVL tests {@code max|Δh/h|} elementwise instead)
 * @param batchSize     0 ({@link #BATCH_SIZE}'s default): every iteration applies the full-data operator (one data pass,
 *                      deterministic); &gt; 0: every iteration uses the Hessian of the next mini-batch
 *                      of that size, cycling through the data in order (stochastic LiSSA as pyDVL,
 *                      which samples shuffled batches; the data source has no random access)
 * @param allowUnconverged {@code false} ({@link #ALLOW_UNCONVERGED}'s default): reaching maxiter before rtol
 *                      makes the solve throw an {@link org.influence4j.api.inversion.InversionException} with
 *                      reason {@code NOT_CONVERGED}; {@code true}: the solutions are returned and the failure
 *                      is recorded ({@code converged = false} and a warning in the solver diagnostics)
 */
public record LissaOptions(int maxIterations, double dampen, double scale, double rtol, int batchSize,
                           boolean allowUnconverged) {

    /** {@code maxiter}: iteration limit (pyDVL's default). */
    public static final Setting<Integer> MAXITER = Setting.ofInt("maxiter", 1000, "LiSSA iteration limit");
    /** {@code dampen}: dampening d in [0, 1). */
    public static final Setting<Double> DAMPEN = Setting.ofDouble("dampen", 0,
            "dampening in [0, 1): solves (A + scale*dampen*I) x = b");
    /** {@code scale}: scaling s (pyDVL's default). */
    public static final Setting<Double> SCALE = Setting.ofDouble("scale", 10,
            "scaling s, above half the largest eigenvalue of H + lambda*I");
    /** {@code rtol}: relative residual tolerance (pyDVL's default). */
    public static final Setting<Double> RTOL = Setting.ofDouble("rtol", 1e-4,
            "stop when ||b - (A + s*d*I) x|| / ||b|| <= rtol");
    /** {@code batch_size}: 0 = the full data every iteration, &gt; 0 = cyclic mini-batches. */
    public static final Setting<Integer> BATCH_SIZE = Setting.ofInt("batch_size", 0,
            "0 = full data per iteration; > 0 = cyclic mini-batches of that size");
    /** {@code allow_unconverged}: return the numbers of a solve that reached maxiter instead of failing. */
    public static final Setting<Boolean> ALLOW_UNCONVERGED = Setting.ofBoolean(SolverSettings.ALLOW_UNCONVERGED, false,
            "keep the solutions of a solve that reached maxiter before rtol (recorded as converged = false) instead"
            + " of failing");

    /** Every setting of LiSSA, declared once: the configuration keys {@code influence.inversion.lissa.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(MAXITER, DAMPEN, SCALE, RTOL, BATCH_SIZE,
            ALLOW_UNCONVERGED);

    /** Default iteration limit (pyDVL), {@link #MAXITER}'s default. */
    public static final int DEFAULT_MAXITER = MAXITER.defaultValue();
    /** Default scale (pyDVL), {@link #SCALE}'s default. */
    public static final double DEFAULT_SCALE = SCALE.defaultValue();
    /** Default tolerance (pyDVL), {@link #RTOL}'s default. */
    public static final double DEFAULT_RTOL = RTOL.defaultValue();

    /** @throws IllegalArgumentException naming the argument out of range */
    public LissaOptions {
        if (maxIterations < 1) {
            throw new IllegalArgumentException("maxiter: must be >= 1, got " + maxIterations);
        }
        if (!(dampen >= 0 && dampen < 1)) {
            throw new IllegalArgumentException("dampen: must be in [0, 1), got " + dampen);
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("scale: must be a finite number > 0 (above half the largest eigenvalue"
                    + " of H + λI), got " + scale);
        }
        if (!(rtol >= 0) || Double.isInfinite(rtol)) {
            throw new IllegalArgumentException("rtol: must be a finite number >= 0, got " + rtol);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batch_size: must be >= 0 (0 = the full data every iteration), got "
                    + batchSize);
        }
    }

    /** The given iteration settings; an unconverged solve is an error ({@link #ALLOW_UNCONVERGED}'s default). */
    public LissaOptions(int maxIterations, double dampen, double scale, double rtol, int batchSize) {
        this(maxIterations, dampen, scale, rtol, batchSize, ALLOW_UNCONVERGED.defaultValue());
    }

    /** @return every setting at its declared default: pyDVL's defaults with full-data iterations */
    public static LissaOptions defaults() {
        return from(SolverSettings.empty());
    }

    /**
     * @param settings short-keyed settings ({@link #SETTINGS}); missing ones take their defaults
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static LissaOptions from(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("lissa", SETTINGS);
        return new LissaOptions(s.get(MAXITER), s.get(DAMPEN), s.get(SCALE), s.get(RTOL), s.get(BATCH_SIZE),
                s.get(ALLOW_UNCONVERGED));
    }

    /**
     * @return a copy that returns the solutions of a solve that reached maxiter, recorded as
     *     {@code converged = false} ({@code true}), or throws (the default)
     */
    public LissaOptions withAllowUnconverged(boolean value) {
        return new LissaOptions(maxIterations, dampen, scale, rtol, batchSize, value);
    }
}
