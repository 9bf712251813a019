package org.influence4j.calculators.tracin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/**
 * The products of Embedding rows against the per-sample gradients written out as V·d columns
 * (δ added at each id) and multiplied in full: ids drawn from a small vocabulary so that samples
 * repeat ids within themselves and share them across samples, and from one id only.
 */
class EmbeddingRowProductsTest {

    private static final int T = 7;
    private static final int DIM = 3;

    @Test
    void pairsAndNormsEqualTheProductsOfTheDenseGradients() {
        for (int vocabulary : new int[] {1, 4, 50}) {
            Random random = new Random(vocabulary);
            int m = 5;
            int n = 9;
            int[] testIds = ids(random, m, vocabulary);
            int[] trainIds = ids(random, n, vocabulary);
            double[] testRows = rows(random, m);
            double[] trainRows = rows(random, n);
            double[] testDense = dense(testIds, testRows, m, vocabulary);
            double[] trainDense = dense(trainIds, trainRows, n, vocabulary);
            int columns = vocabulary * DIM;
            try (HostScope scope = HostBackend.scope()) {
                Tensor pairs = EmbeddingRowProducts.pair(EmbeddingRowProducts.idTensor(testIds, m, scope),
                        scope.fromArray(testRows, DType.FLOAT64, m, T * DIM),
                        EmbeddingRowProducts.idTensor(trainIds, n, scope),
                        scope.fromArray(trainRows, DType.FLOAT64, n, T * DIM), scope);
                double[] got = pairs.toDoubleArray();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double expected = 0;
                        for (int c = 0; c < columns; c++) {
                            expected += testDense[i * columns + c] * trainDense[j * columns + c];
                        }
                        assertEquals(expected, got[i * n + j], 1e-12 * (1 + Math.abs(expected)),
                                "V=" + vocabulary + " pair " + i + "," + j);
                    }
                }
                double[] norms = EmbeddingRowProducts.self(EmbeddingRowProducts.idTensor(trainIds, n, scope),
                        scope.fromArray(trainRows, DType.FLOAT64, n, T * DIM), scope).toDoubleArray();
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int c = 0; c < columns; c++) {
                        expected += trainDense[j * columns + c] * trainDense[j * columns + c];
                    }
                    assertEquals(expected, norms[j], 1e-12 * expected, "V=" + vocabulary + " norm " + j);
                }
            }
        }
    }

    @Test
    void rowsThatDoNotFitTheIdsAreRefused() {
        try (HostScope scope = HostBackend.scope()) {
            Tensor ids = EmbeddingRowProducts.idTensor(new int[] {0, 1, 2, 3}, 2, scope);
            Tensor rows = scope.fromArray(new double[10], DType.FLOAT64, 2, 5);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> EmbeddingRowProducts.self(ids, rows, scope));
            assertTrue(e.getMessage().startsWith("ids, rows: need [n, T] and [n, T·d]"), e.getMessage());
        }
    }

    private static int[] ids(Random random, int samples, int vocabulary) {
        int[] ids = new int[samples * T];
        for (int r = 0; r < ids.length; r++) {
            ids[r] = random.nextInt(vocabulary);
        }
        return ids;
    }

    private static double[] rows(Random random, int samples) {
        double[] rows = new double[samples * T * DIM];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = random.nextGaussian();
        }
        return rows;
    }

    /** @return the gradients {@code [samples, V·d]}: row v of sample i is the sum of its δ rows with id v */
    private static double[] dense(int[] ids, double[] rows, int samples, int vocabulary) {
        double[] out = new double[samples * vocabulary * DIM];
        for (int r = 0; r < ids.length; r++) {
            int sample = r / T;
            for (int c = 0; c < DIM; c++) {
                out[(sample * vocabulary + ids[r]) * DIM + c] += rows[r * DIM + c];
            }
        }
        return out;
    }
}
