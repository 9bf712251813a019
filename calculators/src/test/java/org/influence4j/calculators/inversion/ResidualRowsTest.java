package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/**
 * The residual rows of {@link DirectSolver}'s inverse against residuals computed here in double
 * precision, for solutions far from exact (residuals of order one, far above rounding): the exact
 * rows are {@code b − A x}; the sketched norms are within a factor 2 of them, row by row, and their
 * squares are unbiased (the mean ratio of 400 rows, whose spread is {@code √(2/64)/√400 ≈ 0.009},
 * within 0.05 of 1).
 */
class ResidualRowsTest {

    private static final int P = 120;
    private static final int K = 400;

    @Test
    void exactRowsAreTheResidualsAndSketchedNormsEstimateThemWithoutBias() {
        double[] g = Fixtures.parameters(P * P, 41);
        double[][] a = new double[P][P];
        for (int i = 0; i < P; i++) {
            for (int j = 0; j < P; j++) {
                a[i][j] = g[i * P + j] + g[j * P + i] + (i == j ? 4 : 0);
            }
        }
        double[] b = Fixtures.parameters(K * P, 42);
        double[] x = Fixtures.parameters(K * P, 43);
        double[] expected = new double[K];
        double[] expectedRows = new double[K * P];
        for (int r = 0; r < K; r++) {
            for (int i = 0; i < P; i++) {
                double ax = 0;
                for (int j = 0; j < P; j++) {
                    ax += a[i][j] * x[r * P + j];
                }
                expectedRows[r * P + i] = b[r * P + i] - ax;
                expected[r] += expectedRows[r * P + i] * expectedRows[r * P + i];
            }
        }
        try (HostScope scope = HostBackend.scope()) {
            Tensor matrix = scope.fromArray(Fixtures.flatten(a), DType.FLOAT64, P, P);
            Tensor bt = scope.fromArray(b, DType.FLOAT64, K, P);
            Tensor xt = scope.fromArray(x, DType.FLOAT64, K, P);
            ResidualRows exact = ResidualRows.exact(matrix);
            ResidualRows sketched = ResidualRows.sketched(matrix);
            assertEquals("exact", exact.kind());
            assertEquals("sketched", sketched.kind());
            assertTrue(Fixtures.maxAbsDiff(expectedRows, exact.of(bt, xt).toDoubleArray()) < 1e-12);
            Tensor rows = sketched.of(bt, xt);
            assertEquals(ResidualRows.COLUMNS, rows.shape()[1]);
            double[] squares = rows.rowDots(rows).toDoubleArray();
            double mean = 0;
            for (int r = 0; r < K; r++) {
                double ratio = squares[r] / expected[r];
                assertTrue(ratio > 0.25 && ratio < 4, "row " + r + ": squared estimate / squared residual " + ratio);
                mean += ratio / K;
            }
            assertEquals(1, mean, 0.05);
        }
    }
}
