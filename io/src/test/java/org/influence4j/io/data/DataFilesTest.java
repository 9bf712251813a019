package org.influence4j.io.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.data.Batch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFilesTest {

    @TempDir
    Path dir;

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
