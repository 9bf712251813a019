package org.influence4j.calculators.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/**
 * The tensor helpers: {@code a bᵀ} in either operand order, the pairwise row join, and the
 * rank-revealing orthonormalisation (pivoted Cholesky QR).
 */
class DenseLinalgTest {

    @Test
    void timesTransposedIsTheProductWhicheverOperandHasMoreRows() {
        int k = 4;
        try (HostScope scope = HostBackend.scope()) {
            for (int[] mn : new int[][] {{3, 7}, {7, 3}, {5, 5}}) {
                int m = mn[0];
                int n = mn[1];
                double[] a = Fixtures.parameters(m * k, 10 + m);
                double[] b = Fixtures.parameters(n * k, 20 + n);
                double[] expected = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        for (int c = 0; c < k; c++) {
                            expected[i * n + j] += a[i * k + c] * b[j * k + c];
                        }
                    }
                }
                Tensor product = DenseLinalg.timesTransposed(scope.fromArray(a, DType.FLOAT64, m, k),
                        scope.fromArray(b, DType.FLOAT64, n, k));
                assertArrayEquals(new long[] {m, n}, product.shape());
                assertArrayEquals(expected, product.toDoubleArray(), 1e-14, m + " x " + n);
            }
        }
    }

    @Test
    void stackRowsJoinsInOrder() {
        try (HostScope scope = HostBackend.scope()) {
            List<Tensor> parts = new ArrayList<>();
            for (int r = 0; r < 5; r++) {
                parts.add(scope.fromArray(new double[] {r, 10 + r}, DType.FLOAT64, 1, 2));
            }
            Tensor joined = DenseLinalg.stackRows(parts);
            assertEquals(5, joined.shape()[0]);
            assertArrayEquals(new double[] {0, 10, 1, 11, 2, 12, 3, 13, 4, 14}, joined.toDoubleArray());
        }
    }

    /** {@code T G Tᵀ = I}, and T's first row is the pivot of largest diagonal, scaled: the pivoting is real. */
    @Test
    void pivotedCholeskyInverseWhitensAndPivotsOnTheLargestDiagonal() {
        double[][] rows = {{1, 0, 0, 0}, {1, 2, 0, 1}, {0, 1, 3, 0}};
        double[][] g = product(rows, rows);
        double[][] t = DenseLinalg.pivotedCholeskyInverse(g, 0);
        assertEquals(3, t.length);
        double[][] whitened = product(product(t, g), t);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(i == j ? 1 : 0, whitened[i][j], 1e-14, "T G Tᵀ at " + i + ", " + j);
            }
        }
        // row 2 has the largest squared length (10): it is the first pivot, T's first row is e_2 / √10
        assertArrayEquals(new double[] {0, 0, 1 / Math.sqrt(10)}, t[0], 1e-15);
    }

    /** A dependent row is dropped by the tolerance; an indefinite matrix keeps only its positive pivots. */
    @Test
    void pivotedCholeskyInverseDropsDependentAndNonPositiveDirections() {
        double[][] rows = {{1, 2, 0, 1}, {0, 1, 3, 0}, {1, 3, 3, 1 + 1e-9}};
        double[][] g = product(rows, rows);
        assertEquals(2, DenseLinalg.pivotedCholeskyInverse(g, 1e-12).length, "the sum of the others is dropped");
        assertEquals(3, DenseLinalg.pivotedCholeskyInverse(g, 1e-20).length, "kept above a smaller tolerance");
        double[][] indefinite = {{1, 0, 0}, {0, 2, 0}, {0, 0, -4}};
        assertEquals(2, DenseLinalg.pivotedCholeskyInverse(indefinite, 0).length);
        assertNull(DenseLinalg.pivotedCholeskyInverse(new double[][] {{-1, 0}, {0, 0}}, 0));
    }

    /** Orthonormal rows spanning the kept rows: every original row is its own projection onto them. */
    @Test
    void orthonormalRowsSpanTheBlockWithOrthonormalRows() {
        int k = 6;
        int p = 40;
        double[] values = Fixtures.parameters(k * p, 31);
        // row 5 = row 0 + row 1: rank 5
        for (int c = 0; c < p; c++) {
            values[5 * p + c] = values[c] + values[p + c];
        }
        try (HostScope scope = HostBackend.scope()) {
            Tensor block = scope.fromArray(values, DType.FLOAT64, k, p);
            Tensor q = DenseLinalg.orthonormalRows(block, 1e-12, scope);
            assertEquals(5, q.shape()[0], "the dependent row is dropped");
            double[][] qq = DenseLinalg.gram(q, q);
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(i == j ? 1 : 0, qq[i][j], 1e-14);
                }
            }
            double[][] coefficients = DenseLinalg.gram(block, q);
            double[] projected = DenseLinalg.combine(coefficients, q, scope).toDoubleArray();
            assertArrayEquals(values, projected, 1e-12);
            Tensor zeros = scope.zeros(DType.FLOAT64, 2, p);
            assertNull(DenseLinalg.orthonormalRows(zeros, 1e-12, scope), "nothing is left of a zero block");
        }
    }

    /** {@code a bᵀ} of host matrices. */
    private static double[][] product(double[][] a, double[][] b) {
        double[][] out = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                for (int c = 0; c < a[0].length; c++) {
                    out[i][j] += a[i][c] * b[j][c];
                }
            }
        }
        return out;
    }
}
