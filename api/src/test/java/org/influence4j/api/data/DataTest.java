package org.influence4j.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import org.junit.jupiter.api.Test;

class DataTest {

    @Test
    void batchRejectsMismatchedRows() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Batch.of(new double[][] {{1, 2}, {3, 4}}, new double[] {1}));
        assertTrue(e.getMessage().contains("same number of rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Batch(new double[4], 2, new double[3], 1));
        assertThrows(IllegalArgumentException.class, () -> Batch.of(new double[][] {{1, 2}, {3}}, new double[2]));
    }

    @Test
    void chunksCoverTheDataInOrder() {
        Batch b = Batch.of(new double[][] {{0}, {1}, {2}, {3}, {4}}, new double[] {0, 1, 0, 1, 0});
        Iterator<Batch> it = new InMemoryDataSource(b).batches(2);
        assertArrayEquals(new double[] {0, 1}, it.next().x());
        assertArrayEquals(new double[] {2, 3}, it.next().x());
        assertArrayEquals(new double[] {4}, it.next().x());
        assertTrue(!it.hasNext());
        assertArrayEquals(new double[] {3, 1}, b.select(new int[] {3, 1}).x());
    }
}
