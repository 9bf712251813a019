package org.influence4j.api.internal;

import java.util.Optional;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;

/**
 * The default {@link Tensor#spdInverse()}: the inverse of a symmetric positive-definite matrix by a
 * recursion on Schur complements, so that almost all of the work is matrix products on the tensor's
 * backend.
 *
 * <p>With {@code A = [A11 A12; A12ᵀ A22]} split in halves, A is positive definite exactly when
 * {@code A11} and its Schur complement {@code S = A22 − A12ᵀ A11⁻¹ A12} are, and
 * {@code A⁻¹ = [A11⁻¹ + Wᵀ S⁻¹ W, −Wᵀ S⁻¹; −S⁻¹ W, S⁻¹]} with {@code W = A12ᵀ A11⁻¹}. Both halves are
 * inverted the same way down to blocks of at most {@link #LEAF} rows, which are copied to the host,
 * factorised by Cholesky ({@code A = UᵀU}, reading the upper triangle only, in double) and inverted
 * there; a pivot that is not positive (or a non-finite entry) ends the recursion with "not positive
 * definite". In exact arithmetic this is block Cholesky; it costs about {@code 4n³/3} flops in four
 * matrix products per level (twice Cholesky's factor-and-invert, but in the backend's multi-threaded
 * GEMM instead of one host core). Only the upper triangle of the argument is read.
 */
public final class BlockSpdInverse {

    /** The largest diagonal block that is factorised on the host. */
    public static final int LEAF = 256;

    private BlockSpdInverse() {
    }

    /**
     * @param a a square matrix {@code [n, n]} whose upper triangle is read
     * @return its inverse in {@code a}'s dtype and scope, or empty if it is not positive definite
     * @throws IllegalArgumentException if {@code a} is not a square matrix
     */
    public static Optional<Tensor> invert(Tensor a) {
        long[] shape = a.shape();
        TensorChecks.checkSquare(shape);
        return Optional.ofNullable(inverse(a, Math.toIntExact(shape[0])));
    }

    /** @return the inverse of {@code a} ({@code [n, n]}, upper triangle read) in its scope, or null if not PD */
    private static Tensor inverse(Tensor a, int n) {
        if (n <= LEAF) {
            return leaf(a, n);
        }
        int n1 = n / 2;
        try (Tensor top = a.rows(0, n1);
             Tensor topT = top.transpose();
             Tensor a11T = topT.rows(0, n1);
             Tensor a11 = a11T.transpose();
             Tensor a21 = topT.rows(n1, n);
             Tensor x11 = inverse(a11, n1)) {
            if (x11 == null) {
                return null;
            }
            try (Tensor w = a21.matmul(x11);
                 Tensor a12 = a21.transpose();
                 Tensor wa12 = w.matmul(a12);
                 Tensor bottom = a.rows(n1, n);
                 Tensor bottomT = bottom.transpose();
                 Tensor a22T = bottomT.rows(n1, n);
                 Tensor a22 = a22T.transpose();
                 Tensor s = a22.sub(wa12);
                 Tensor xs = inverse(s, n - n1)) {
                if (xs == null) {
                    return null;
                }
                try (Tensor v = xs.matmul(w);
                     Tensor wT = w.transpose();
                     Tensor wTv = wT.matmul(v);
                     Tensor y11 = x11.add(wTv);
                     Tensor negV = v.scale(-1);
                     Tensor negVT = negV.transpose();
                     Tensor left = y11.concat(negV);
                     Tensor right = negVT.concat(xs);
                     Tensor leftT = left.transpose();
                     Tensor rightT = right.transpose()) {
                    return leftT.concat(rightT);
                }
            }
        }
    }

    /** @return the inverse of a small block, computed on the host, in {@code a}'s scope; null if not PD */
    private static Tensor leaf(Tensor a, int n) {
        double[] u = a.toDoubleArray();
        // upper Cholesky factor A = UᵀU in place, row by row; the strict lower triangle is ignored
        for (int j = 0; j < n; j++) {
            double d = u[j * n + j];
            for (int k = 0; k < j; k++) {
                d -= u[k * n + j] * u[k * n + j];
            }
            if (!(d > 0) || !Double.isFinite(d)) {
                return null;
            }
            double ujj = Math.sqrt(d);
            u[j * n + j] = ujj;
            for (int i = j + 1; i < n; i++) {
                double s = u[j * n + i];
                for (int k = 0; k < j; k++) {
                    s -= u[k * n + j] * u[k * n + i];
                }
                u[j * n + i] = s / ujj;
            }
        }
        // R = U⁻¹ (upper triangular), column by column
        double[] r = new double[n * n];
        for (int j = 0; j < n; j++) {
            r[j * n + j] = 1 / u[j * n + j];
            for (int i = j - 1; i >= 0; i--) {
                double s = 0;
                for (int k = i + 1; k <= j; k++) {
                    s += u[i * n + k] * r[k * n + j];
                }
                r[i * n + j] = -s / u[i * n + i];
            }
        }
        // A⁻¹ = R Rᵀ
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                for (int k = j; k < n; k++) {
                    s += r[i * n + k] * r[j * n + k];
                }
                x[i * n + j] = s;
                x[j * n + i] = s;
            }
        }
        return a.scope().fromArray(x, a.dtype(), n, n);
    }
}
