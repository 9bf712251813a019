package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

class LanczosBasisTest {

    /**
     * Rows appended one at a time and as a block of five, held in blocks of at most three rows (a
     * 96-byte bound on rows of 32 bytes), give the rows, inner products and combinations of the
     * matrix they make up, to 1e-14; {@code closeInto} joins the blocks for one product.
     */
    @Test
    void blocksActAsTheMatrixOfTheirRows() {
        int p = 4;
        int rows = 9;
        SplittableRandom random = new SplittableRandom(2);
        double[] matrix = random.doubles((long) rows * p, -1, 1).toArray();
        double[] w = random.doubles(p, -1, 1).toArray();
        double[][] c = {random.doubles(rows, -1, 1).toArray(), random.doubles(rows, -1, 1).toArray()};
        try (HostScope scope = HostBackend.scope();
             LanczosBasis basis = new LanczosBasis(p * 8L, 3 * p * 8L)) {
            for (int i = 0; i < 4; i++) {
                double[] row = java.util.Arrays.copyOfRange(matrix, i * p, (i + 1) * p);
                basis.append(scope.fromArray(row, DType.FLOAT64, 1, p));
            }
            basis.append(scope.fromArray(java.util.Arrays.copyOfRange(matrix, 4 * p, rows * p), DType.FLOAT64, 5, p));
            for (int i = 0; i < rows; i++) {
                try (Tensor row = basis.row(i)) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(matrix, i * p, (i + 1) * p), row.toDoubleArray(), 0,
                            "row " + i);
                }
            }
            double[] dots = new double[rows];
            double[] combined = new double[2 * p];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < p; j++) {
                    dots[i] += matrix[i * p + j] * w[j];
                    combined[j] += c[0][i] * matrix[i * p + j];
                    combined[p + j] += c[1][i] * matrix[i * p + j];
                }
            }
            assertArrayEquals(dots, basis.dots(scope.fromArray(w, DType.FLOAT64, 1, p)), 1e-14);
            assertArrayEquals(combined, basis.combine(c, scope).toDoubleArray(), 1e-14);
            assertArrayEquals(combined, basis.closeInto(c, scope).toDoubleArray(), 1e-14);
            assertEquals(0, basis.dots(scope.fromArray(w, DType.FLOAT64, 1, p)).length, "closeInto empties the basis");
        }
    }
}
