package org.influence4j.calculators.inversion;

import java.util.Random;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;

/**
 * How a prepared inverse measures the residuals {@code b − A x} of its solutions (A symmetric,
 * {@code [p, p]}, float64 on the backend): {@link #of} returns rows whose norms are the residuals'
 * norms, exactly or as an unbiased estimate.
 *
 * <ul>
 *   <li>{@link #exact}: the rows of {@code B − X·A}, a {@code [k, p]·[p, p]} product.</li>
 *   <li>{@link #sketched}: the rows of {@code (B − X·A)·S = B·S − X·(A·S)} for a fixed Gaussian
 *       {@code S} of {@value #COLUMNS} columns with entries of variance {@code 1/}{@value #COLUMNS};
 *       {@code A·S} is computed once. Each squared row norm is the squared residual times a χ²
 *       variable of {@value #COLUMNS} degrees of freedom over {@value #COLUMNS}: unbiased, below half
 *       the residual with probability 1.3e-10 and below a tenth of it with probability 4e-52, per row.</li>
 * </ul>
 * Either is computed in floating point: below about {@code ε·‖A‖·‖x‖} (ε of float64) a measured
 * residual is rounding, in both.
 */
final class ResidualRows {

    /** Columns of the Gaussian sketch. */
    static final int COLUMNS = 64;

    /** Seed of the sketch: the same estimates for the same solutions, run after run. */
    private static final long SEED = 0x5EED_D1EC7L;

    private final Tensor matrix;
    private final Tensor sketch;
    private final Tensor matrixSketch;

    private ResidualRows(Tensor matrix, Tensor sketch) {
        this.matrix = matrix;
        this.sketch = sketch;
        this.matrixSketch = sketch == null ? null : matrix.matmul(sketch);
    }

    /** @param matrix the symmetric A; not owned */
    static ResidualRows exact(Tensor matrix) {
        return new ResidualRows(matrix, null);
    }

    /**
     * @param matrix the symmetric A; S and {@code A·S} are created in its scope and freed with it
     */
    static ResidualRows sketched(Tensor matrix) {
        int p = (int) matrix.shape()[0];
        Random random = new Random(SEED);
        double scale = 1 / Math.sqrt(COLUMNS);
        double[] s = new double[p * COLUMNS];
        for (int i = 0; i < s.length; i++) {
            s[i] = scale * random.nextGaussian();
        }
        return new ResidualRows(matrix, matrix.scope().fromArray(s, DType.FLOAT64, p, COLUMNS));
    }

    /** @return {@code "exact"} or {@code "sketched"} */
    String kind() {
        return sketch == null ? "exact" : "sketched";
    }

    /**
     * @param b {@code [k, p]} right-hand sides, float64
     * @param x {@code [k, p]} their solutions, float64
     * @return {@code [k, p]} (exact) or {@code [k, }{@value #COLUMNS}{@code ]} (sketched) rows, in the scope
     *     of {@code b}, whose norms are (estimate) {@code ‖b_i − A x_i‖}
     */
    Tensor of(Tensor b, Tensor x) {
        if (sketch == null) {
            try (Tensor ax = x.matmul(matrix)) {
                return b.sub(ax);
            }
        }
        try (Tensor bs = b.matmul(sketch); Tensor axs = x.matmul(matrixSketch)) {
            return bs.sub(axs);
        }
    }
}
