package org.influence4j.calculators.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * Small dense linear algebra on the Java heap for the iterative solvers (k x k projected matrices,
 * Gram matrices of blocks of k vectors), delegated to EJML (but for a pivoted Cholesky
 * factorisation, which EJML lacks): the {@link Tensor} contract has no factorisations, and these
 * matrices are small next to the data passes. Block-vector products stay
 * on the backend; only k x k (or k x s) coefficient matrices cross to the host.
 *
 * <p>Matrices are {@code double[rows][cols]}. Internal to the calculators module (see the package
 * comment): public for the solvers, EK-FAC and TracIn, not an API.
 */
public final class DenseLinalg {

    private DenseLinalg() {
    }

    /**
     * {@code a bᵀ} for matrices {@code a [m, k]} and {@code b [n, k]}: {@code [m, n]}, owned by the
     * operands' scope. With fewer rows in {@code a} than in {@code b} it is computed as
     * {@code (b aᵀ)ᵀ}: BLAS runs the product faster with the longer side as its rows (the influence
     * GEMM {@code [64, 19210]·[19210, 1024]}: 110 → 149 GFLOP/s on djl-pytorch). The same sums, up to
     * float reassociation.
     */
    public static Tensor timesTransposed(Tensor a, Tensor b) {
        if (a.shape()[0] < b.shape()[0]) {
            try (Tensor at = a.transpose(); Tensor product = b.matmul(at)) {
                return product.transpose();
            }
        }
        try (Tensor bt = b.transpose()) {
            return a.matmul(bt);
        }
    }

    /**
     * The tensors joined along dimension 0, pairwise, so every value is copied O(log k) times (a
     * running join copies O(k)); closes the parts.
     */
    public static Tensor stackRows(List<Tensor> parts) {
        List<Tensor> level = parts;
        while (level.size() > 1) {
            List<Tensor> next = new ArrayList<>((level.size() + 1) / 2);
            for (int k = 0; k + 1 < level.size(); k += 2) {
                next.add(level.get(k).concat(level.get(k + 1)));
                level.get(k).close();
                level.get(k + 1).close();
            }
            if (level.size() % 2 == 1) {
                next.add(level.get(level.size() - 1));
            }
            level = next;
        }
        return level.get(0);
    }

    /**
     * Eigenpairs of a symmetric matrix: {@code values[i]}, eigenvector {@code vectors[i]} (unit length).
     *
     * @param values  the eigenvalues in the requested order
     * @param vectors the eigenvectors, {@code vectors[i]} belongs to {@code values[i]}
     */
    public record Eigen(double[] values, double[][] vectors) {
    }

    /**
     * Eigendecomposition of the symmetric part of {@code a}, sorted by {@code order}.
     *
     * @param a     a square matrix, {@code a[row][col]}; only its symmetric part is used
     * @param order the order of the returned eigenvalues, e.g. {@link #DESCENDING}
     * @return the eigenpairs
     * @throws IllegalStateException if EJML fails to converge
     */
    public static Eigen symmetricEigen(double[][] a, Comparator<Double> order) {
        int n = a.length;
        DMatrixRMaj m = toMatrix(symmetricPart(a));
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(m)) {
            throw new IllegalStateException("symmetric eigendecomposition of a " + n + " x " + n
                    + " matrix did not converge");
        }
        Integer[] idx = new Integer[n];
        double[] vals = new double[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
            vals[i] = eig.getEigenvalue(i).getReal();
        }
        Arrays.sort(idx, (x, y) -> order.compare(vals[x], vals[y]));
        double[] values = new double[n];
        double[][] vectors = new double[n][];
        for (int q = 0; q < n; q++) {
            values[q] = vals[idx[q]];
            DMatrixRMaj v = eig.getEigenVector(idx[q]);
            double[] col = new double[n];
            double norm = 0;
            for (int i = 0; i < n; i++) {
                col[i] = v.get(i, 0);
                norm += col[i] * col[i];
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) {
                col[i] /= norm;
            }
            vectors[q] = col;
        }
        return new Eigen(values, vectors);
    }

    /** Descending by value. */
    public static final Comparator<Double> DESCENDING = Comparator.reverseOrder();
    /** Descending by magnitude. */
    public static final Comparator<Double> MAGNITUDE = Comparator.comparingDouble((Double d) -> -Math.abs(d));

    /** @return the lower Cholesky factor of the symmetric part of {@code a}, or {@code null} if it is not PD */
    public static double[][] cholesky(double[][] a) {
        int n = a.length;
        DMatrixRMaj m = toMatrix(symmetricPart(a));
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(n, true);
        if (!chol.decompose(m)) {
            return null;
        }
        DMatrixRMaj l = chol.getT(null);
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                out[i][j] = l.get(i, j);
            }
            if (!(out[i][i] > 0)) {
                return null;
            }
        }
        return out;
    }

    /** @return the inverse of a square matrix (general LU) */
    public static double[][] inverse(double[][] a) {
        int n = a.length;
        DMatrixRMaj m = toMatrix(a);
        if (!CommonOps_DDRM.invert(m)) {
            throw new IllegalStateException("a " + n + " x " + n + " matrix is singular");
        }
        return toArray(m);
    }

    /** @return {@code a · bᵀ} of two row blocks {@code [m, p]} and {@code [n, p]}, as a host {@code m x n} matrix */
    public static double[][] gram(Tensor a, Tensor b) {
        try (Tensor g = timesTransposed(a, b)) {
            return unflatten(g.toDoubleArray(), (int) a.shape()[0], (int) b.shape()[0]);
        }
    }

    /** @return {@code c · rows}: a {@code [m, p]} block from host coefficients {@code c (m x s)} and rows {@code [s, p]} */
    public static Tensor combine(double[][] c, Tensor rows, TensorScope scope) {
        try (Tensor ct = scope.fromArray(flatten(c), rows.dtype(), c.length, c[0].length)) {
            return ct.matmul(rows);
        }
    }

    /**
     * @param flat row-major {@code [rows, cols]}
     * @return the same matrix as {@code double[rows][cols]}
     */
    public static double[][] unflatten(double[] flat, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(flat, i * cols, out[i], 0, cols);
        }
        return out;
    }

    public static double[] flatten(double[][] a) {
        int cols = a[0].length;
        double[] out = new double[a.length * cols];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, out, i * cols, cols);
        }
        return out;
    }

    /** @return {@code (a + aᵀ)/2} of a square matrix, a new array */
    private static double[][] symmetricPart(double[][] a) {
        int n = a.length;
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                out[i][j] = 0.5 * (a[i][j] + a[j][i]);
            }
        }
        return out;
    }

    private static DMatrixRMaj toMatrix(double[][] a) {
        DMatrixRMaj m = new DMatrixRMaj(a.length, a[0].length);
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                m.set(i, j, a[i][j]);
            }
        }
        return m;
    }

    private static double[][] toArray(DMatrixRMaj m) {
        return unflatten(m.data, m.numRows, m.numCols);
    }

    /**
     * Orthonormalises the rows of {@code block} ({@code [k, p]}) by Cholesky QR with diagonal
     * pivoting, applied twice for stability: each pass factors the Gram matrix {@code G = B Bᵀ}
     * (on the host, in float64) as {@code Πᵀ G Π = L Lᵀ} and replaces the kept rows by
     * {@code L⁻¹ (Πᵀ B)}. A row is dropped (numerical rank deficiency) when the squared length of
     * its part orthogonal to the rows kept before it falls to {@code dropTolerance} times the
     * largest squared row length or below; the second pass drops only rows that have no positive
     * length left. No eigendecomposition: each pass costs one {@link #pivotedCholeskyInverse} on the
     * host (k = 360: 6.3-6.5 ms, where a symmetric eigendecomposition took about 60 ms).
     *
     * @return orthonormal rows spanning (numerically) the same space as the kept rows, or
     *     {@code null} if none is left
     */
    public static Tensor orthonormalRows(Tensor block, double dropTolerance, TensorScope scope) {
        Tensor current = block;
        for (int pass = 0; pass < 2; pass++) {
            double[][] t = pivotedCholeskyInverse(gram(current, current), pass == 0 ? dropTolerance : 0);
            if (t == null) {
                if (current != block) {
                    current.close();
                }
                return null;
            }
            Tensor next = combine(t, current, scope);
            if (current != block) {
                current.close();
            }
            current = next;
        }
        return current;
    }

    /**
     * The rows {@code T (r x k)} with {@code T G Tᵀ = I} of the pivoted Cholesky factorisation of
     * the symmetric part of {@code g (k x k)}: {@code T = L⁻¹ Πᵀ} over the r pivots whose Schur
     * complement diagonal exceeds {@code tolerance} times the largest diagonal of {@code g} (and
     * 0). LAPACK's {@code dpstrf} in outline (rows and columns swapped in place, right-looking
     * updates of the trailing block) and a row-oriented triangular inverse, so that the inner loops
     * are contiguous axpys: about {@code k³/3 + r³/6} multiply-adds.
     *
     * @return {@code T}, or {@code null} if no pivot is kept
     */
    public static double[][] pivotedCholeskyInverse(double[][] g, double tolerance) {
        int n = g.length;
        double[][] a = symmetricPart(g);
        double maxDiagonal = 0;
        for (int i = 0; i < n; i++) {
            maxDiagonal = Math.max(maxDiagonal, a[i][i]);
        }
        double threshold = tolerance * maxDiagonal;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        double[] column = new double[n];
        int rank = 0;
        for (; rank < n; rank++) {
            int pivot = rank;
            for (int i = rank + 1; i < n; i++) {
                if (a[i][i] > a[pivot][pivot]) {
                    pivot = i;
                }
            }
            double d = a[pivot][pivot];
            if (!(d > threshold) || !(d > 0)) {
                break;
            }
            swapSymmetric(a, order, rank, pivot);
            double s = Math.sqrt(d);
            a[rank][rank] = s;
            for (int i = rank + 1; i < n; i++) {
                a[i][rank] /= s;
                column[i] = a[i][rank];
            }
            for (int i = rank + 1; i < n; i++) {
                double c = column[i];
                if (c != 0) {
                    double[] row = a[i];
                    for (int j = rank + 1; j < n; j++) {
                        row[j] -= c * column[j];
                    }
                }
            }
        }
        if (rank == 0) {
            return null;
        }
        // X = L⁻¹ row by row: X_i = (e_i − Σ_{c<i} L_ic X_c) / L_ii, where X_c is zero beyond column c
        double[][] inverse = new double[rank][rank];
        for (int i = 0; i < rank; i++) {
            double[] x = inverse[i];
            for (int c = 0; c < i; c++) {
                double l = a[i][c];
                if (l != 0) {
                    double[] xc = inverse[c];
                    for (int j = 0; j <= c; j++) {
                        x[j] -= l * xc[j];
                    }
                }
            }
            x[i] = 1;
            double scale = 1 / a[i][i];
            for (int j = 0; j <= i; j++) {
                x[j] *= scale;
            }
        }
        double[][] t = new double[rank][n];
        for (int q = 0; q < rank; q++) {
            for (int c = 0; c <= q; c++) {
                t[q][order[c]] = inverse[q][c];
            }
        }
        return t;
    }

    /** Swaps rows and columns {@code i} and {@code j} of the symmetric {@code a}, and their labels. */
    private static void swapSymmetric(double[][] a, int[] order, int i, int j) {
        if (i == j) {
            return;
        }
        double[] row = a[i];
        a[i] = a[j];
        a[j] = row;
        for (double[] r : a) {
            double v = r[i];
            r[i] = r[j];
            r[j] = v;
        }
        int label = order[i];
        order[i] = order[j];
        order[j] = label;
    }

    /** @return a tensor {@code [rows, cols]} of independent standard normal values from {@code random} */
    public static Tensor gaussian(java.util.Random random, int rows, int cols, DType dtype, TensorScope scope) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        return scope.fromArray(v, dtype, rows, cols);
    }
}
