package org.influence4j.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reference seconds measured on this machine by {@code benchmarks/scripts/reference_table.py}
 * (Captum and pyDVL on PyTorch), read from its TSV so that {@link QueryTable} prints its ratios
 * against the same machine's references instead of the issue's. The file: a header line
 * {@code query\ttool\tseconds\tmin\tmax}, then one line per timed query (the query exactly as
 * {@link QueryTable}'s and {@link FashionQueryTable}'s rows name it, the tool, the median seconds
 * and the range of the samples).
 *
 * @param byQuery the measured rows by query
 * @param source  where they were read, for the table's header
 */
record ReferenceSeconds(Map<String, Measured> byQuery, String source) {

    /** The system property naming the TSV; unset: the reference seconds are used. */
    static final String PROPERTY = "influence4j.bench.reference";

    private static final String HEADER = "query\ttool\tseconds\tmin\tmax";

    /**
     * One reference row.
     *
     * @param tool    the library that was timed (Captum, pyDVL)
     * @param seconds the median seconds, positive
     * @param min     the fastest sample
     * @param max     the slowest sample
     */
    record Measured(String tool, double seconds, double min, double max) {
    }

    ReferenceSeconds {
        byQuery = Map.copyOf(byQuery);
    }

    /** @return the reference rows of the TSV that {@link #PROPERTY} names, or empty where it is unset */
    static Optional<ReferenceSeconds> fromSystemProperty() {
        String file = System.getProperty(PROPERTY);
        return file == null || file.isBlank() ? Optional.empty() : Optional.of(read(Path.of(file)));
    }

    /**
     * @param file a TSV written by {@code reference_table.py --out FILE}
     * @return its rows
     * @throws IllegalArgumentException naming the file (and line) when it is missing or malformed
     */
    static ReferenceSeconds read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": no such file " + file
                    + "; write it with benchmarks/scripts/reference_table.py --out " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("-D" + PROPERTY + ": cannot read " + file, e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(file + ":1: expected the header '" + HEADER.replace("\t", "\\t")
                    + "' of reference_table.py --out");
        }
        Map<String, Measured> rows = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            if (fields.length != 5) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected 5 tab-separated fields ("
                        + HEADER.replace("\t", ", ") + "), got " + fields.length);
            }
            double seconds = number(fields[2], file, i);
            if (!(seconds > 0)) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": seconds must be positive, got "
                        + fields[2]);
            }
            if (rows.put(fields[0], new Measured(fields[1], seconds, number(fields[3], file, i),
                    number(fields[4], file, i))) != null) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": query '" + fields[0]
                        + "' appears twice");
            }
        }
        return new ReferenceSeconds(rows, file.toString());
    }

    private static double number(String field, Path file, int index) {
        try {
            return Double.parseDouble(field);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ":" + (index + 1) + ": not a number: '" + field + "'");
        }
    }

    /** @return the measured reference of {@code query}, if the file has it */
    Optional<Measured> of(String query) {
        return Optional.ofNullable(byQuery.get(query));
    }
}
