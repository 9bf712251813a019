package org.influence4j.io.data;

import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.zip.GZIPInputStream;

/**
 * A {@link DataSource} read from a numeric CSV file (optionally gzip-compressed, by the
 * {@code .gz} extension): each row holds the features followed by {@code labelWidth} label
 * columns. The whole file is parsed and validated when the source is opened, so that a ragged
 * row or a non-numeric cell is reported with its line and column before any computation starts.
 */
public final class CsvDataSource implements DataSource {

    private final InMemoryDataSource delegate;

    private CsvDataSource(Batch data) {
        this.delegate = new InMemoryDataSource(data);
    }

    /**
     * Opens a CSV file whose last column is the label and which has no header.
     *
     * @see #open(Path, int, int)
     */
    public static CsvDataSource open(Path file) throws IOException {
        return open(file, 0, 1);
    }

    /**
     * Opens a CSV file.
     *
     * @param file       the file ({@code .gz} is decompressed)
     * @param skipLines  leading lines to skip (headers)
     * @param labelWidth number of label columns at the end of each row
     * @throws IOException naming the file, line and column of the first bad cell, a ragged row, or
     *     an empty file
     */
    public static CsvDataSource open(Path file, int skipLines, int labelWidth) throws IOException {
        if (skipLines < 0) {
            throw new IllegalArgumentException("skipLines: must be >= 0, got " + skipLines);
        }
        if (labelWidth <= 0) {
            throw new IllegalArgumentException("labelWidth: must be positive, got " + labelWidth);
        }
        if (!Files.isReadable(file)) {
            throw new IOException("CSV file " + file + " does not exist or is not readable");
        }
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return new CsvDataSource(parse(in, file.toString(), skipLines, labelWidth));
        }
    }

    /**
     * Parses numeric CSV from a stream (not closed) into one batch.
     *
     * @param sourceName the name used in error messages (a file name)
     * @throws IOException naming the source, line and column of the first bad cell, a ragged row,
     *     or an empty input
     */
    public static Batch parse(InputStream in, String sourceName, int skipLines, int labelWidth) throws IOException {
        double[] xs = new double[1024];
        double[] ys = new double[256];
        int nx = 0;
        int ny = 0;
        int columns = -1;
        int rows = 0;
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int lineNo = 0;
        while ((line = reader.readLine()) != null) {
            lineNo++;
            if (lineNo <= skipLines || line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (columns < 0) {
                columns = cells.length;
                if (columns <= labelWidth) {
                    throw new IOException(sourceName + ": line " + lineNo + " has " + columns
                            + " columns; need at least one feature plus " + labelWidth + " label column(s)");
                }
            } else if (cells.length != columns) {
                throw new IOException(sourceName + ": line " + lineNo + " has " + cells.length
                        + " columns but earlier rows have " + columns + " (ragged row)");
            }
            for (int c = 0; c < columns; c++) {
                double v;
                try {
                    v = Double.parseDouble(cells[c].trim());
                } catch (NumberFormatException e) {
                    throw new IOException(sourceName + ": line " + lineNo + ", column " + (c + 1)
                            + ": '" + cells[c].trim() + "' is not a number");
                }
                if (!Double.isFinite(v)) {
                    throw new IOException(sourceName + ": line " + lineNo + ", column " + (c + 1)
                            + ": value " + cells[c].trim() + " is not finite");
                }
                if (c < columns - labelWidth) {
                    if (nx == xs.length) {
                        xs = java.util.Arrays.copyOf(xs, xs.length * 2);
                    }
                    xs[nx++] = v;
                } else {
                    if (ny == ys.length) {
                        ys = java.util.Arrays.copyOf(ys, ys.length * 2);
                    }
                    ys[ny++] = v;
                }
            }
            rows++;
        }
        if (rows == 0) {
            throw new IOException(sourceName + ": no data rows (after skipping " + skipLines + " line(s))");
        }
        return new Batch(java.util.Arrays.copyOf(xs, nx), columns - labelWidth,
                java.util.Arrays.copyOf(ys, ny), labelWidth);
    }

    @Override
    public long size() {
        return delegate.size();
    }

    @Override
    public int numFeatures() {
        return delegate.numFeatures();
    }

    @Override
    public int labelWidth() {
        return delegate.labelWidth();
    }

    @Override
    public Batch readAll() {
        return delegate.readAll();
    }

    @Override
    public Iterator<Batch> batches(int batchSize) {
        return delegate.batches(batchSize);
    }
}
