package org.influence4j.calculators.inversion;

import java.util.Random;
import java.util.function.UnaryOperator;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * How a prepared inverse measures the residuals {@code b − A x} of its solutions (A symmetric,
 * {@code [p, p]}, float64 on the backend, as a matrix or as its products with rows): {@link #of}
 * returns rows whose norms are the residuals' norms, exactly or as an unbiased estimate.
 *
 * <ul>
 *   <li>{@link #exact}: the rows of {@code B − X·A}, a {@code [k, p]·[p, p]} product (or the products
 *       with rows that stand for it).</li>
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

    /** {@code x ↦ x·A} for rows x {@code [k, p]} (float64). */
    private final UnaryOperator<Tensor> rowsTimesMatrix;
    private final Tensor sketch;
    private final Tensor matrixSketch;

    private ResidualRows(UnaryOperator<Tensor> rowsTimesMatrix, Tensor sketch, Tensor matrixSketch) {
        this.rowsTimesMatrix = rowsTimesMatrix;
        this.sketch = sketch;
        this.matrixSketch = matrixSketch;
    }

    /** @param matrix the symmetric A; not owned */
    static ResidualRows exact(Tensor matrix) {
        return exact(x -> x.matmul(matrix));
    }

    /** @param rowsTimesMatrix {@code x ↦ x·A} for rows {@code [k, p]} in float64, A symmetric (not formed) */
    static ResidualRows exact(UnaryOperator<Tensor> rowsTimesMatrix) {
        return new ResidualRows(rowsTimesMatrix, null, null);
    }

    /**
     * @param matrix the symmetric A; S and {@code A·S} are created in its scope and freed with it
     */
    static ResidualRows sketched(Tensor matrix) {
        Tensor s = gaussianSketch(matrix.scope(), (int) matrix.shape()[0]);
        return new ResidualRows(null, s, matrix.matmul(s));
    }

    /**
     * @param rowsTimesMatrix {@code x ↦ x·A} for rows {@code [k, p]} in float64, A symmetric (not formed):
     *                        applied once, to {@code Sᵀ}
     * @param scope           owns S and {@code A·S}
     */
    static ResidualRows sketched(UnaryOperator<Tensor> rowsTimesMatrix, TensorScope scope, int p) {
        Tensor s = gaussianSketch(scope, p);
        try (Tensor rows = s.transpose(); Tensor product = rowsTimesMatrix.apply(rows)) {
            return new ResidualRows(null, s, product.transpose().moveTo(scope));
        }
    }

    /** @return the fixed Gaussian S {@code [p, }{@value #COLUMNS}{@code ]}, float64, in {@code scope} */
    private static Tensor gaussianSketch(TensorScope scope, int p) {
        Random random = new Random(SEED);
        double scale = 1 / Math.sqrt(COLUMNS);
        double[] s = new double[p * COLUMNS];
        for (int i = 0; i < s.length; i++) {
            s[i] = scale * random.nextGaussian();
        }
        return scope.fromArray(s, DType.FLOAT64, p, COLUMNS);
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
            try (Tensor ax = rowsTimesMatrix.apply(x)) {
                return b.sub(ax);
            }
        }
        try (Tensor bs = b.matmul(sketch); Tensor axs = x.matmul(matrixSketch)) {
            return bs.sub(axs);
        }
    }
}
