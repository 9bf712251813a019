package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * The one-hot gather of the TensorFlow backend ({@link TfBackend#gatherRows}), whose selection is
 * made in blocks of at most {@link TfBackend#SELECTION_ENTRIES} entries: the rows come back exact and
 * in order whether the index takes one block or several.
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
}
