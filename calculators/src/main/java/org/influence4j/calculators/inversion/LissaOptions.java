package org.influence4j.calculators.inversion;

/**
 * Settings of the {@link LissaSolver}, with pyDVL's names and defaults ({@code LissaInfluence}).
 *
 * @param maxIterations iteration limit, ≥ 1 (default 1000)
 * @param dampen        dampening d in [0, 1) (default 0); d &gt; 0 solves {@code (A + s·d·I) x = b},
 *                      i.e. adds s·d to the regularization
 * @param scale         scaling s &gt; 0 (default 10); convergence needs every eigenvalue of A in
 *                      {@code (−s·d, (2 − d)·s)}, i.e. s above half the largest eigenvalue of A
 * @param rtol          stop when the relative residual {@code ‖b − (d·s·I + A) x‖ / ‖b‖ ≤ rtol}
 *                      (default 1e-4; pyDVL tests {@code max|Δh/h|} elementwise instead)
 * @param batchSize     0 (default): every iteration applies the full-data operator (one data pass,
 *                      deterministic); &gt; 0: every iteration uses the Hessian of the next mini-batch
 *                      of that size, cycling through the data in order (stochastic LiSSA as pyDVL,
 *                      which samples shuffled batches; the data source has no random access)
 */
public record LissaOptions(int maxIterations, double dampen, double scale, double rtol, int batchSize) {

    /** Default iteration limit (pyDVL). */
    public static final int DEFAULT_MAXITER = 1000;
    /** Default scale (pyDVL). */
    public static final double DEFAULT_SCALE = 10;
    /** Default tolerance (pyDVL). */
    public static final double DEFAULT_RTOL = 1e-4;

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

    /** @return pyDVL's defaults with full-data iterations */
    public static LissaOptions defaults() {
        return new LissaOptions(DEFAULT_MAXITER, 0, DEFAULT_SCALE, DEFAULT_RTOL, 0);
    }
}
