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
 * The gathers of the TensorFlow backend: TensorFlow's own ({@link TfIndexing}) and the one-hot
 * fallback ({@link TfBackend#gatherRows}), whose selection is made in blocks of at most
 * {@link TfBackend#SELECTION_ENTRIES} entries: the rows come back exact and in order whether the index
 * takes one block or several. And the adjoint of a padded column gather built on the one-hot rows
 * ({@link DjlKernels#scatterPaddedColumns}), whose table leaves the padding out.
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
     * TensorFlow's own GatherV2, reached through DJL's op executor ({@link TfIndexing}), on this DJL
     * version (a DJL upgrade that hides it fails here instead of falling back to one-hot products
     * unnoticed): rows in index order, repeats included, equal to the one-hot fallback's.
     */
    @Test
    void nativeGatherIsReachableAndEqualsTheOneHotGather() {
        TfBackendProvider.backend();
        assertTrue(TfIndexing.INSTANCE.isNative(), "GatherV2 through DJL's op executor");
        assertTrue(!TfIndexing.withoutNativeGather().isNative());
        int rows = 50;
        double[] values = new double[rows * 3];
        for (int q = 0; q < values.length; q++) {
            values[q] = q - Math.scalb(1.0, -45) * q;
        }
        int[] index = {49, 0, 7, 7, 49, 13, 0};
        double[] expected = new double[index.length * 3];
        for (int j = 0; j < index.length; j++) {
            System.arraycopy(values, 3 * index[j], expected, 3 * j, 3);
        }
        try (NDManager m = Engine.getEngine("TensorFlow").newBaseManager();
             NDArray a = m.create(values, new Shape(rows, 3))) {
            for (TfIndexing indexing : new TfIndexing[] {TfIndexing.INSTANCE, TfIndexing.withoutNativeGather()}) {
                try (NDArray gathered = indexing.gather(m, a, index)) {
                    assertArrayEquals(new long[] {index.length, 3}, gathered.getShape().getShape());
                    assertArrayEquals(expected, gathered.toDoubleArray(), 0.0, "native: " + indexing.isNative());
                }
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
