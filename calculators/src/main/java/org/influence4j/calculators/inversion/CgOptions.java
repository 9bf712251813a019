package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Settings of the {@link ConjugateGradientSolver}, with pyDVL's defaults except one: the relative
 * tolerance follows the operator's dtype (pyDVL's 1e-7 in float64, 1e-5 in float32, where rounding
 * keeps the true residual above about 1e-6 and pyDVL's recursion-only check would claim a
 * convergence the true residual does not confirm). Each setting is declared once as a
 * {@link Setting} ({@link #SETTINGS}: key, type, default, documentation); the defaults below are theirs.
 *
 * <p>Right-hand side b_i stops when its residual {@code ‖b_i − A x_i‖ ≤ max(rtol·‖b_i‖, atol)}: the
 * recursion stops on its recursive residual, and the solve has converged only if the true residual
 * {@code b_i − A x_i}, recomputed once at the end with its norms in float64, meets the same rule.
 * A solve that does not converge is an error unless {@link #allowUnconverged()}.
 *
 * @param rtol               relative tolerance, ≥ 0 ({@link #RTOL}); 0 means "by the operator's dtype"
 *                           ({@link #rtolFor})
 * @param atol               absolute tolerance, ≥ 0 ({@link #ATOL})
 * @param maxIterations      iteration limit, ≥ 0 ({@link #MAXITER}); 0 means "the dimension p of the operator" (in exact
 *                           arithmetic CG converges in at most p iterations; pyDVL and SciPy default to
 *                           {@code 10·p}, which can be set explicitly for ill-conditioned problems)
 * @param block              {@code true}: true block CG (pyDVL's {@code use_block_cg}): the k right-hand
 *                           sides share one growing block Krylov space, so it needs at most as many
 *                           iterations as the hardest single solve (often fewer), one block data pass per
 *                           iteration; {@code false} ({@link #BLOCK}'s default): k independent CG recurrences in lockstep,
 *                           also one block pass per iteration
 * @param preconditioner     {@link PreconditionerKind} ({@link #PRECONDITIONER})
 * @param preconditionerRank rank of the Nyström preconditioner, ≥ 1 ({@link #PRECONDITIONER_RANK}); clipped to p
 * @param hutchinsonProbes   probes of the Jacobi diagonal estimate, ≥ 1 ({@link #HUTCHINSON_PROBES})
 * @param seed               seed of the random probes and sketches ({@link #SEED})
 * @param precompute         {@code true}: materialise {@code A = H + λI} once on the backend
 *                           ({@link PrecomputedHessianOperator}, one pass, p² values) and iterate with
 *                           matrix products instead of data passes, when p² fits
 *                           {@link PrecomputedHessianOperator#MAX_BYTES}; on the Gauss-Newton matrix
 *                           its square-root factors instead when they fit ({@link FactoredGaussNewtonOperator},
 *                           n·outputs·p values, c backward passes to build); the counterpart of pyDVL's
 *                           {@code precompute_grad} (trade memory for time); {@link #PRECOMPUTE}
 * @param allowUnconverged   {@code false} ({@link #ALLOW_UNCONVERGED}'s default): a right-hand side whose true
 *                           residual misses the tolerance makes the solve throw an
 *                           {@link org.influence4j.api.inversion.InversionException} with reason
 *                           {@code NOT_CONVERGED}; {@code true}: the solutions are returned and the failure is
 *                           recorded ({@code converged = false} and a warning in the solver diagnostics)
 */
public record CgOptions(double rtol, double atol, int maxIterations, boolean block, PreconditionerKind preconditioner,
                        int preconditionerRank, int hutchinsonProbes, long seed, boolean precompute,
                        boolean allowUnconverged) {

    /**
     * {@code rtol}: relative residual tolerance; 0 = by the operator's dtype: pyDVL's 1e-7 in float64,
     * {@value #FLOAT32_RTOL} in float32 (where the true residual of a solve rarely gets below 1e-6).
     */
    public static final Setting<Double> RTOL = Setting.ofDouble("rtol", 0,
            "relative residual tolerance: stop at ||r|| <= max(rtol*||b||, atol); 0 = 1e-7 in float64, 1e-5 in"
            + " float32").withDefaultDescription("1e-7 (float64), 1e-5 (float32)");
    /** {@code atol}: absolute residual tolerance (pyDVL's default). */
    public static final Setting<Double> ATOL = Setting.ofDouble("atol", 1e-7, "absolute residual tolerance");
    /** {@code maxiter}: iteration limit; 0 = the dimension p of the operator. */
    public static final Setting<Integer> MAXITER = Setting.ofInt("maxiter", 0,
            "iteration limit; 0 = p, the number of parameters").withDefaultDescription("p");
    /** {@code block}: block CG (pyDVL's {@code use_block_cg}). */
    public static final Setting<Boolean> BLOCK = Setting.ofBoolean("block", false,
            "block CG: the right-hand sides share one Krylov space");
    /** {@code preconditioner}: {@code none}, {@code jacobi} or {@code nystroem}. */
    public static final Setting<PreconditionerKind> PRECONDITIONER = Setting.of("preconditioner",
            PreconditionerKind.class, PreconditionerKind.NONE, PreconditionerKind::parse, PreconditionerKind::configName,
            "none | jacobi (Hutchinson diagonal) | nystroem (low-rank)");
    /** {@code preconditioner_rank}: rank of the Nyström preconditioner. */
    public static final Setting<Integer> PRECONDITIONER_RANK = Setting.ofInt("preconditioner_rank", 10,
            "rank of the Nystroem preconditioner");
    /** {@code hutchinson_probes}: probes of the Jacobi diagonal estimate. */
    public static final Setting<Integer> HUTCHINSON_PROBES = Setting.ofInt("hutchinson_probes", 16,
            "probes of the Jacobi diagonal estimate (one data pass)");
    /** {@code seed}: seed of the probes and sketches. */
    public static final Setting<Integer> SEED = Setting.ofInt("seed", 0, "seed of probes and sketches");
    /** {@code precompute}: materialise H + λI once. */
    public static final Setting<Boolean> PRECOMPUTE = Setting.ofBoolean("precompute", false,
            "materialise the operator once instead of a data pass per iteration: H + lambda*I (p*p values) or, on"
            + " the Gauss-Newton matrix, its square-root factors (n*outputs*p values); at most 2 GiB");
    /** {@code allow_unconverged}: return the numbers of a solve that missed its tolerance instead of failing. */
    public static final Setting<Boolean> ALLOW_UNCONVERGED = Setting.ofBoolean(SolverSettings.ALLOW_UNCONVERGED, false,
            "keep the solutions of a solve whose true residual misses the tolerance (recorded as converged = false)"
            + " instead of failing");

    /** Every setting of the CG solver, declared once: the configuration keys {@code influence.inversion.cg.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(RTOL, ATOL, MAXITER, BLOCK, PRECONDITIONER,
            PRECONDITIONER_RANK, HUTCHINSON_PROBES, SEED, PRECOMPUTE, ALLOW_UNCONVERGED);

    /** The relative tolerance of float64 solves when {@link #RTOL} is 0 (pyDVL's default). */
    public static final double DEFAULT_RTOL = 1e-7;
    /** The relative tolerance of float32 solves when {@link #RTOL} is 0. */
    public static final double FLOAT32_RTOL = 1e-5;
    /** Default absolute tolerance (pyDVL), {@link #ATOL}'s default. */
    public static final double DEFAULT_ATOL = ATOL.defaultValue();
    /** Default rank of the Nyström preconditioner, {@link #PRECONDITIONER_RANK}'s default. */
    public static final int DEFAULT_PRECONDITIONER_RANK = PRECONDITIONER_RANK.defaultValue();
    /** Default number of Hutchinson probes of the Jacobi preconditioner, {@link #HUTCHINSON_PROBES}'s default. */
    public static final int DEFAULT_HUTCHINSON_PROBES = HUTCHINSON_PROBES.defaultValue();

    /** @throws IllegalArgumentException naming the argument out of range */
    public CgOptions {
        if (!(rtol >= 0) || Double.isInfinite(rtol)) {
            throw new IllegalArgumentException("rtol: must be a finite number >= 0, got " + rtol);
        }
        if (!(atol >= 0) || Double.isInfinite(atol)) {
            throw new IllegalArgumentException("atol: must be a finite number >= 0, got " + atol);
        }
        if (maxIterations < 0) {
            throw new IllegalArgumentException("maxiter: must be >= 0 (0 = the dimension of the operator), got "
                    + maxIterations);
        }
        if (preconditioner == null) {
            throw new IllegalArgumentException("preconditioner: must not be null; use PreconditionerKind.NONE");
        }
        if (preconditionerRank < 1) {
            throw new IllegalArgumentException("preconditionerRank: must be >= 1, got " + preconditionerRank);
        }
        if (hutchinsonProbes < 1) {
            throw new IllegalArgumentException("hutchinsonProbes: must be >= 1, got " + hutchinsonProbes);
        }
    }

    /** The given tolerances and limit, every other setting at its declared default (lockstep CG, no preconditioner). */
    public CgOptions(double rtol, double atol, int maxIterations) {
        this(rtol, atol, maxIterations, BLOCK.defaultValue(), PRECONDITIONER.defaultValue(),
                PRECONDITIONER_RANK.defaultValue(), HUTCHINSON_PROBES.defaultValue(), SEED.defaultValue(),
                PRECOMPUTE.defaultValue(), ALLOW_UNCONVERGED.defaultValue());
    }

    /** @return every setting at its declared default ({@link #SETTINGS}) */
    public static CgOptions defaults() {
        return from(SolverSettings.empty());
    }

    /**
     * @param settings short-keyed settings ({@link #SETTINGS}); missing ones take their defaults
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static CgOptions from(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("cg", SETTINGS);
        return new CgOptions(s.get(RTOL), s.get(ATOL), s.get(MAXITER), s.get(BLOCK), s.get(PRECONDITIONER),
                s.get(PRECONDITIONER_RANK), s.get(HUTCHINSON_PROBES), s.get(SEED), s.get(PRECOMPUTE),
                s.get(ALLOW_UNCONVERGED));
    }

    /**
     * @param dtype the operator's dtype
     * @return {@link #rtol()}, or when it is 0 the dtype's default: {@value #DEFAULT_RTOL} in float64,
     *     {@value #FLOAT32_RTOL} in float32
     */
    public double rtolFor(DType dtype) {
        return rtol > 0 ? rtol : dtype == DType.FLOAT32 ? FLOAT32_RTOL : DEFAULT_RTOL;
    }

    /** @return the iteration limit for an operator of dimension {@code p} */
    public int maxIterationsFor(int p) {
        if (maxIterations > 0) {
            return maxIterations;
        }
        return Math.max(p, 1);
    }

    /** @return a copy with another iteration limit */
    public CgOptions withMaxIterations(int value) {
        return new CgOptions(rtol, atol, value, block, preconditioner, preconditionerRank, hutchinsonProbes, seed,
                precompute, allowUnconverged);
    }

    /** @return a copy using block CG ({@code true}) or lockstep CG */
    public CgOptions withBlock(boolean value) {
        return new CgOptions(rtol, atol, maxIterations, value, preconditioner, preconditionerRank, hutchinsonProbes,
                seed, precompute, allowUnconverged);
    }

    /** @return a copy with another preconditioner (and Nyström rank) */
    public CgOptions withPreconditioner(PreconditionerKind kind, int rank) {
        return new CgOptions(rtol, atol, maxIterations, block, kind, rank, hutchinsonProbes, seed, precompute,
                allowUnconverged);
    }

    /** @return a copy that precomputes the dense operator ({@code true}) or not */
    public CgOptions withPrecompute(boolean value) {
        return new CgOptions(rtol, atol, maxIterations, block, preconditioner, preconditionerRank, hutchinsonProbes,
                seed, value, allowUnconverged);
    }

    /**
     * @return a copy that returns the solutions of a solve that missed its tolerance, recorded as
     *     {@code converged = false} ({@code true}), or throws (the default)
     */
    public CgOptions withAllowUnconverged(boolean value) {
        return new CgOptions(rtol, atol, maxIterations, block, preconditioner, preconditionerRank, hutchinsonProbes,
                seed, precompute, value);
    }
}
