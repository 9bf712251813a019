package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.backend.djl.DjlKernels;
import org.junit.jupiter.api.Test;

/**
 * The one-hot gather of the TensorFlow backend ({@link TfBackend#gatherRows}), whose selection is
 * made in blocks of at most {@link TfBackend#SELECTION_ENTRIES} entries: the rows come back exact and
 * in order whether the index takes one block or several. And the adjoint of a padded column gather
 * built on it ({@link DjlKernels#scatterPaddedColumns}), whose table leaves the padding out.
 */
class TfBackendGatherTest {

    @Test
    void rowsAreGatheredExactlyInOneBlockAndInSeveral() {
        TfBackendProvider.backend(); // loads the engine with the backend's settings
        int rows = 3000;
        double[] values = new double[rows * 2];
        for (int i = 0; i < rows; i++) {
            values[2 * i] = i + 0.25;
            values[2 * i + 1] = -Math.scalb(1.0 + i, -40); // tiny values stay exact
        }
        for (int length : new int[] {7, 3001}) {
            int[] index = new int[length];
            for (int j = 0; j < length; j++) {
                index[j] = (j * 977 + 5) % rows;
            }
            assertTrue(length * (long) rows > TfBackend.SELECTION_ENTRIES == (length == 3001),
                    "the long index takes several blocks, the short one");
            try (NDManager m = Engine.getEngine("TensorFlow").newBaseManager();
                 NDArray a = m.create(values, new Shape(rows, 2));
                 NDArray gathered = TfBackend.gatherRows(m, a, index)) {
                double[] expected = new double[length * 2];
                for (int j = 0; j < length; j++) {
                    expected[2 * j] = values[2 * index[j]];
                    expected[2 * j + 1] = values[2 * index[j] + 1];
                }
                assertArrayEquals(new long[] {length, 2}, gathered.getShape().getShape());
                assertArrayEquals(expected, gathered.toDoubleArray(), 0.0, "an index of " + length);
            }
        }
    }

    /**
     * A padded im2col index reads the zero column once per padded position (here 4,000 of 4,096
     * entries): each column's sum holds exactly its own entries, and the padding feeds none.
     */
    @Test
    void scatterOfAPaddedColumnGatherSumsEachColumnsEntriesAndDropsThePadding() {
        TfBackendProvider.backend();
        int columns = 12;
        int rows = 3;
        int[] index = new int[4096];
        for (int j = 0; j < index.length; j++) {
            index[j] = j % 43 == 0 ? j % columns : columns; // mostly the zero column
        }
        double[] g = new double[rows * index.length];
        for (int q = 0; q < g.length; q++) {
            g[q] = (q % 17) - 8 + q / 4096.0;
        }
        double[] expected = new double[rows * columns];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < index.length; j++) {
                if (index[j] < columns) {
                    expected[r * columns + index[j]] += g[r * index.length + j];
                }
            }
        }
        try (NDManager m = Engine.getEngine("TensorFlow").newBaseManager()) {
            long[] gathered = {0};
            DjlKernels k = new DjlKernels(m, DataType.FLOAT64, TfDTypes::create, (manager, a, rowIndex) -> {
                gathered[0] += rowIndex.length;
                return TfBackend.gatherRows(manager, a, rowIndex);
            });
            NDArray scattered = k.scatterPaddedColumns(k.constant(g, rows, index.length), index, columns);
            assertArrayEquals(new long[] {rows, columns}, scattered.getShape().getShape());
            assertArrayEquals(expected, scattered.toDoubleArray(), 1e-12);
            // with the padding in the table, its 4,000 entries would make every column's row of it as wide
            assertTrue(gathered[0] < 200, "rows gathered for the table: " + gathered[0]);
        }
    }
}
