package org.influence4j.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TSV of reference_table.py as {@link QueryTable} reads it. */
class ReferenceSecondsTest {

    private static final String HEADER = "query\ttool\tseconds\tmin\tmax\n";

    @TempDir
    Path dir;

    private Path write(String text) throws IOException {
        return Files.writeString(dir.resolve("reference.tsv"), text);
    }

    @Test
    void readsEveryRowByItsQuery() throws IOException {
        Path file = write(HEADER + "TracInCP self-influence\tCaptum\t0.064\t0.060\t0.071\n\n"
                + "cnn ek-fac fit\tpyDVL\t1.5\t1.25\t2\n");
        ReferenceSeconds references = ReferenceSeconds.read(file);
        assertEquals(new ReferenceSeconds.Measured("Captum", 0.064, 0.060, 0.071),
                references.of("TracInCP self-influence").orElseThrow());
        assertEquals(1.5, references.of("cnn ek-fac fit").orElseThrow().seconds());
        assertTrue(references.of("EK-FAC fit").isEmpty(), "queries match exactly");
        assertEquals(file.toString(), references.source());
    }

    @Test
    void refusesMalformedFilesNamingTheLine() throws IOException {
        String missing = assertThrows(IllegalArgumentException.class,
                () -> ReferenceSeconds.read(dir.resolve("absent.tsv"))).getMessage();
        assertTrue(missing.contains("-Dinfluence4j.bench.reference") && missing.contains("reference_table.py"),
                missing);
        Path noHeader = write("TracInCP self-influence\tCaptum\t0.064\t0.06\t0.07\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ReferenceSeconds.read(noHeader))
                .getMessage().endsWith(":1: expected the header 'query\\ttool\\tseconds\\tmin\\tmax' of "
                        + "reference_table.py --out"));
        Path fields = write(HEADER + "a\tCaptum\t0.1\t0.1\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ReferenceSeconds.read(fields))
                .getMessage().contains(":2: expected 5 tab-separated fields"));
        Path number = write(HEADER + "a\tCaptum\t0.1\t0.1\t0.1\nb\tpyDVL\tfast\t1\t1\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ReferenceSeconds.read(number))
                .getMessage().contains(":3: not a number: 'fast'"));
        Path zero = write(HEADER + "a\tCaptum\t0\t0\t0\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ReferenceSeconds.read(zero))
                .getMessage().contains(":2: seconds must be positive"));
        Path twice = write(HEADER + "a\tCaptum\t0.1\t0.1\t0.1\na\tCaptum\t0.2\t0.2\t0.2\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ReferenceSeconds.read(twice))
                .getMessage().contains(":3: query 'a' appears twice"));
    }
}
