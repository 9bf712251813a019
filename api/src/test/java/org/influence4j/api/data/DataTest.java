package org.influence4j.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataTest {

    @TempDir
    Path dir;

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

    @Test
    void csvReportsLineAndColumn() throws IOException {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, "1,2,0\n3,x,1\n");
        IOException e = assertThrows(IOException.class, () -> CsvDataSource.open(f));
        assertTrue(e.getMessage().contains("line 2, column 2"), e.getMessage());
        Files.writeString(f, "1,2,0\n3,1\n");
        e = assertThrows(IOException.class, () -> CsvDataSource.open(f));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("ragged"), e.getMessage());
        Files.writeString(f, "a,b,label\n1,2,0\n3,4,1\n");
        CsvDataSource ok = CsvDataSource.open(f, 1, 1);
        assertEquals(2, ok.size());
        assertEquals(2, ok.numFeatures());
        assertArrayEquals(new double[] {0, 1}, ok.readAll().y());
    }

    @Test
    void bundledDataSetsHaveTheDocumentedShape() {
        Batch bc = BundledDatasets.breastCancer();
        assertEquals(569, bc.size());
        assertEquals(30, bc.numFeatures());
        assertEquals(357, java.util.Arrays.stream(bc.y()).sum(), 0.0, "357 benign samples");
        Batch digits = BundledDatasets.digits();
        assertEquals(1797, digits.size());
        assertEquals(64, digits.numFeatures());
        Batch z = BundledDatasets.standardize(bc);
        double mean = 0;
        for (int i = 0; i < z.size(); i++) {
            mean += z.x()[i * 30];
        }
        assertEquals(0.0, mean / z.size(), 1e-12);
    }
}
