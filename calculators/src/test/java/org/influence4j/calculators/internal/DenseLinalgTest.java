package org.influence4j.calculators.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/** The tensor helpers: {@code a bᵀ} in either operand order, and the pairwise row join. */
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
}
