package org.influence4j.calculators.inversion;

/**
 * Settings of the {@link ArnoldiSolver}, with pyDVL's names and defaults ({@code ArnoldiInfluence}).
 *
 * @param rankEstimate    number r of eigenpairs of H kept (largest in magnitude), 1 ≤ r ≤ p (default 10;
 *                        clipped to p)
 * @param krylovDimension Lanczos basis size m, r &lt; m ≤ p (or m = r = p); 0 means pyDVL's default
 *                        {@code min(p, max(2r + 1, 20))}
 * @param tol             Ritz pair i counts as converged when {@code ‖H y_i − θ_i y_i‖ ≤ tol·|θ_i|}
 *                        (ARPACK's criterion), ≥ 0 (default 1e-6)
 * @param maxIterations   maximum number of restart cycles, ≥ 0; 0 means ARPACK's default {@code 10·p}
 * @param seed            seed of the random start vector (default 0)
 * @param precompute      materialise the operator first ({@link PrecomputedHessianOperator}, pyDVL's
 *                        {@code precompute_grad} counterpart; default {@code false})
 */
public record ArnoldiOptions(int rankEstimate, int krylovDimension, double tol, int maxIterations, long seed,
                             boolean precompute) {

    /** Default rank (pyDVL). */
    public static final int DEFAULT_RANK = 10;
    /** Default tolerance (pyDVL). */
    public static final double DEFAULT_TOL = 1e-6;

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

    /** @return rank 10 and pyDVL's defaults */
    public static ArnoldiOptions defaults() {
        return ofRank(DEFAULT_RANK);
    }

    /** @return the defaults with another rank */
    public static ArnoldiOptions ofRank(int rank) {
        return new ArnoldiOptions(rank, 0, DEFAULT_TOL, 0, 0L, false);
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
