package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Settings of the {@link ArnoldiSolver}, with pyDVL's names and defaults ({@code ArnoldiInfluence}),
 * each declared once as a {@link Setting} ({@link #SETTINGS}).
 *
 * @param rankEstimate    number r of eigenpairs of H kept (largest in magnitude), 1 ≤ r ≤ p
 *                        ({@link #RANK_ESTIMATE}; clipped to p)
 * @param krylovDimension Lanczos basis size m, r &lt; m ≤ p (or m = r = p); 0 means pyDVL's default
 *                        {@code min(p, max(2r + 1, 20))} ({@link #KRYLOV_DIMENSION})
 * @param tol             Ritz pair i counts as converged when {@code ‖H y_i − θ_i y_i‖ ≤ tol·|θ_i|}
 *                        (ARPACK's criterion), ≥ 0 ({@link #TOL})
 * @param maxIterations   maximum number of restart cycles, ≥ 0; 0 means ARPACK's default {@code 10·p}
 *                        ({@link #MAX_ITER})
 * @param seed            seed of the random start vector ({@link #SEED})
 * @param precompute      materialise the operator first: the dense matrix ({@link PrecomputedHessianOperator},
 *                        pyDVL's {@code precompute_grad} counterpart) or, on the Gauss-Newton matrix, its
 *                        square-root factors ({@link FactoredGaussNewtonOperator}); {@link #PRECOMPUTE}
 * @param allowUnconverged {@code false} ({@link #ALLOW_UNCONVERGED}'s default): reaching max_iter before every
 *                        kept Ritz pair meets tol makes {@code prepare} throw an
 *                        {@link org.influence4j.api.inversion.InversionException} with reason
 *                        {@code NOT_CONVERGED}; {@code true}: the approximate eigenpairs are kept and the
 *                        failure is recorded ({@code converged = false} and a warning in every solve's diagnostics)
 */
public record ArnoldiOptions(int rankEstimate, int krylovDimension, double tol, int maxIterations, long seed,
                             boolean precompute, boolean allowUnconverged) {

    /** {@code rank_estimate}: eigenpairs of H kept (pyDVL's default). */
    public static final Setting<Integer> RANK_ESTIMATE = Setting.ofInt("rank_estimate", 10,
            "eigenpairs of H kept, largest in magnitude");
    /** {@code krylov_dimension}: Lanczos basis size; 0 = {@code min(p, max(2r + 1, 20))}. */
    public static final Setting<Integer> KRYLOV_DIMENSION = Setting.ofInt("krylov_dimension", 0,
            "Lanczos basis size; 0 = min(p, max(2*rank + 1, 20))").withDefaultDescription("min(p, max(2r+1, 20))");
    /** {@code tol}: Ritz residual tolerance (pyDVL's default). */
    public static final Setting<Double> TOL = Setting.ofDouble("tol", 1e-6, "Ritz residual <= tol * |eigenvalue|");
    /** {@code max_iter}: restart cycles; 0 = {@code 10·p}. */
    public static final Setting<Integer> MAX_ITER = Setting.ofInt("max_iter", 0, "restart cycles; 0 = 10 * p")
            .withDefaultDescription("10·p");
    /** {@code seed}: seed of the start vector. */
    public static final Setting<Integer> SEED = Setting.ofInt("seed", 0, "seed of the start vector");
    /** {@code precompute}: materialise H + λI first. */
    public static final Setting<Boolean> PRECOMPUTE = Setting.ofBoolean("precompute", false,
            "materialise the operator once instead of a data pass per Lanczos step: H + lambda*I (p*p values) or, on"
            + " the Gauss-Newton matrix, its square-root factors (n*outputs*p values); at most 2 GiB");
    /** {@code allow_unconverged}: keep Ritz pairs that missed tol instead of failing. */
    public static final Setting<Boolean> ALLOW_UNCONVERGED = Setting.ofBoolean(SolverSettings.ALLOW_UNCONVERGED, false,
            "keep the eigenpairs when max_iter is reached before tol (recorded as converged = false) instead of"
            + " failing");

    /** Every setting of Arnoldi, declared once: the configuration keys {@code influence.inversion.arnoldi.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(RANK_ESTIMATE, KRYLOV_DIMENSION, TOL, MAX_ITER, SEED,
            PRECOMPUTE, ALLOW_UNCONVERGED);

    /** Default rank (pyDVL), {@link #RANK_ESTIMATE}'s default. */
    public static final int DEFAULT_RANK = RANK_ESTIMATE.defaultValue();
    /** Default tolerance (pyDVL), {@link #TOL}'s default. */
    public static final double DEFAULT_TOL = TOL.defaultValue();

    /** @throws IllegalArgumentException naming the argument out of range */
    public ArnoldiOptions {
        if (rankEstimate < 1) {
            throw new IllegalArgumentException("rank_estimate: must be >= 1, got " + rankEstimate);
        }
        if (krylovDimension < 0) {
            throw new IllegalArgumentException("krylov_dimension: must be >= 0 (0 = min(p, max(2·rank + 1, 20))),"
                    + " got " + krylovDimension);
        }
        if (krylovDimension > 0 && krylovDimension < rankEstimate) {
            throw new IllegalArgumentException("krylov_dimension: must be >= rank_estimate = " + rankEstimate + " (greater unless both equal p)"
                    + ", got " + krylovDimension);
        }
        if (!(tol >= 0) || Double.isInfinite(tol)) {
            throw new IllegalArgumentException("tol: must be a finite number >= 0, got " + tol);
        }
        if (maxIterations < 0) {
            throw new IllegalArgumentException("max_iter: must be >= 0 (0 = 10·p restarts), got " + maxIterations);
        }
    }

    /** The given settings; an unconverged Lanczos is an error ({@link #ALLOW_UNCONVERGED}'s default). */
    public ArnoldiOptions(int rankEstimate, int krylovDimension, double tol, int maxIterations, long seed,
                          boolean precompute) {
        this(rankEstimate, krylovDimension, tol, maxIterations, seed, precompute, ALLOW_UNCONVERGED.defaultValue());
    }

    /** @return every setting at its declared default (rank 10 and pyDVL's defaults) */
    public static ArnoldiOptions defaults() {
        return ofRank(DEFAULT_RANK);
    }

    /** @return the declared defaults with another rank */
    public static ArnoldiOptions ofRank(int rank) {
        return new ArnoldiOptions(rank, KRYLOV_DIMENSION.defaultValue(), TOL.defaultValue(), MAX_ITER.defaultValue(),
                SEED.defaultValue(), PRECOMPUTE.defaultValue());
    }

    /**
     * @param settings short-keyed settings ({@link #SETTINGS}); missing ones take their defaults
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static ArnoldiOptions from(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("arnoldi", SETTINGS);
        return new ArnoldiOptions(s.get(RANK_ESTIMATE), s.get(KRYLOV_DIMENSION), s.get(TOL), s.get(MAX_ITER),
                s.get(SEED), s.get(PRECOMPUTE), s.get(ALLOW_UNCONVERGED));
    }

    /**
     * @return a copy that keeps the eigenpairs of a Lanczos run that missed tol, recorded as
     *     {@code converged = false} ({@code true}), or throws (the default)
     */
    public ArnoldiOptions withAllowUnconverged(boolean value) {
        return new ArnoldiOptions(rankEstimate, krylovDimension, tol, maxIterations, seed, precompute, value);
    }

    /** @return the kept rank for an operator of dimension p */
    public int rankFor(int p) {
        return Math.min(rankEstimate, p);
    }

    /** @return the Krylov dimension for an operator of dimension p */
    public int krylovDimensionFor(int p) {
        int r = rankFor(p);
        int m = krylovDimension > 0 ? krylovDimension : Math.max(2 * r + 1, 20);
        return Math.max(Math.min(m, p), r);
    }

    /** @return the restart limit for an operator of dimension p */
    public int maxIterationsFor(int p) {
        return maxIterations > 0 ? maxIterations : 10 * Math.max(p, 1);
    }
}
