package org.influence4j.calculators.inversion;

/**
 * Settings of the {@link ConjugateGradientSolver}, with pyDVL's defaults.
 *
 * <p>Right-hand side b_i stops when its residual {@code ‖b_i − A x_i‖ ≤ max(rtol·‖b_i‖, atol)}.
 *
 * @param rtol          relative tolerance, ≥ 0 (default 1e-7)
 * @param atol          absolute tolerance, ≥ 0 (default 1e-7)
 * @param maxIterations iteration limit, ≥ 0; 0 means "the dimension p of the operator" (in exact
 *                      arithmetic CG converges in at most p iterations; pyDVL and SciPy default to
 *                      {@code 10·p}, which can be set explicitly for ill-conditioned problems)
 */
public record CgOptions(double rtol, double atol, int maxIterations) {

    /** Default relative tolerance (pyDVL). */
    public static final double DEFAULT_RTOL = 1e-7;
    /** Default absolute tolerance (pyDVL). */
    public static final double DEFAULT_ATOL = 1e-7;

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
        return new CgOptions(rtol, atol, value);
    }
}
