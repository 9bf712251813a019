package org.influence4j.calculators.inversion;

/**
 * Settings of the {@link ConjugateGradientSolver}, with pyDVL's defaults.
 *
 * <p>Right-hand side b_i stops when its residual {@code ‖b_i − A x_i‖ ≤ max(rtol·‖b_i‖, atol)}.
 *
 * @param rtol               relative tolerance, ≥ 0 (default 1e-7)
 * @param atol               absolute tolerance, ≥ 0 (default 1e-7)
 * @param maxIterations      iteration limit, ≥ 0; 0 means "the dimension p of the operator" (in exact
 *                           arithmetic CG converges in at most p iterations; pyDVL and SciPy default to
 *                           {@code 10·p}, which can be set explicitly for ill-conditioned problems)
 * @param block              {@code true}: true block CG (pyDVL's {@code use_block_cg}): the k right-hand
 *                           sides share one growing block Krylov space, so it needs at most as many
 *                           iterations as the hardest single solve (often fewer), one block data pass per
 *                           iteration; {@code false} (default): k independent CG recurrences in lockstep,
 *                           also one block pass per iteration
 * @param preconditioner     {@link PreconditionerKind} (default {@code NONE})
 * @param preconditionerRank rank of the Nyström preconditioner, ≥ 1 (default 10); clipped to p
 * @param hutchinsonProbes   probes of the Jacobi diagonal estimate, ≥ 1 (default 16)
 * @param seed               seed of the random probes and sketches (default 0)
 * @param precompute         {@code true}: materialise {@code A = H + λI} once on the backend
 *                           ({@link PrecomputedHessianOperator}, one pass, p² values) and iterate with
 *                           matrix products instead of data passes, when p² fits
 *                           {@link PrecomputedHessianOperator#MAX_BYTES}; the counterpart of pyDVL's
 *                           {@code precompute_grad} (trade memory for time). Default {@code false}
 */
public record CgOptions(double rtol, double atol, int maxIterations, boolean block, PreconditionerKind preconditioner,
                        int preconditionerRank, int hutchinsonProbes, long seed, boolean precompute) {

    /** Default relative tolerance (pyDVL). */
    public static final double DEFAULT_RTOL = 1e-7;
    /** Default absolute tolerance (pyDVL). */
    public static final double DEFAULT_ATOL = 1e-7;
    /** Default rank of the Nyström preconditioner. */
    public static final int DEFAULT_PRECONDITIONER_RANK = 10;
    /** Default number of Hutchinson probes of the Jacobi preconditioner. */
    public static final int DEFAULT_HUTCHINSON_PROBES = 16;

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

    /** Plain lockstep CG without preconditioner. */
    public CgOptions(double rtol, double atol, int maxIterations) {
        this(rtol, atol, maxIterations, false, PreconditionerKind.NONE, DEFAULT_PRECONDITIONER_RANK,
                DEFAULT_HUTCHINSON_PROBES, 0L, false);
    }

    /** @return rtol = atol = 1e-7, maxiter derived from the dimension */
    public static CgOptions defaults() {
        return new CgOptions(DEFAULT_RTOL, DEFAULT_ATOL, 0);
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
                precompute);
    }

    /** @return a copy using block CG ({@code true}) or lockstep CG */
    public CgOptions withBlock(boolean value) {
        return new CgOptions(rtol, atol, maxIterations, value, preconditioner, preconditionerRank, hutchinsonProbes,
                seed, precompute);
    }

    /** @return a copy with another preconditioner (and Nyström rank) */
    public CgOptions withPreconditioner(PreconditionerKind kind, int rank) {
        return new CgOptions(rtol, atol, maxIterations, block, kind, rank, hutchinsonProbes, seed, precompute);
    }

    /** @return a copy that precomputes the dense operator ({@code true}) or not */
    public CgOptions withPrecompute(boolean value) {
        return new CgOptions(rtol, atol, maxIterations, block, preconditioner, preconditionerRank, hutchinsonProbes,
                seed, value);
    }
}
