package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.Arrays;
import org.influence4j.api.data.Batch;

/**
 * Samples (x, y) cut into chunks along the sample dimension, with random access to each chunk
 * (needed to run chunks in parallel and to skip finished ones when resuming). Chunk k holds
 * samples {@code [offset(k), offset(k) + chunkSizes()[k])}.
 *
 * <p>Implementations are immutable and serializable (Spark ships them to executors), and
 * {@link #chunk} may be called from several threads at once.
 */
public interface ChunkedData extends Serializable {

    /** Produces samples on demand, e.g. synthetic data or a reader of a large file. */
    @FunctionalInterface
    interface Generator extends Serializable {
        /**
         * @param from  first sample
         * @param count number of samples, positive
         * @return a batch of exactly {@code count} samples; the same arguments must give the same data
         */
        Batch generate(long from, int count);
    }

    /** @return the chunk sizes (positive) */
    long[] chunkSizes();

    /** @return the samples of chunk {@code k} */
    Batch chunk(int k);

    /** @return features per sample */
    int numFeatures();

    /** @return labels per sample */
    int labelWidth();

    /** @return the number of chunks */
    default int numChunks() {
        return chunkSizes().length;
    }

    /** @return the number of samples */
    default long size() {
        return Arrays.stream(chunkSizes()).sum();
    }

    /**
     * Chunks an in-memory batch into pieces of {@code chunkSize} samples (the last may be smaller).
     *
     * @throws IllegalArgumentException if the batch is empty or {@code chunkSize <= 0}
     */
    static ChunkedData of(Batch data, int chunkSize) {
        if (data == null || data.size() == 0) {
            throw new IllegalArgumentException("data: must contain at least one sample");
        }
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize: must be > 0, got " + chunkSize);
        }
        return new InMemory(data, ChunkedArray.regular(data.size(), chunkSize));
    }

    /**
     * Reads {@code source} into memory and chunks it (random access is needed to run chunks in
     * parallel and to skip finished ones); for data larger than memory use {@link #generated}.
     *
     * @throws IllegalArgumentException if {@code chunkSize <= 0} or the source is null
     */
    static ChunkedData of(org.influence4j.api.data.DataSource source, int chunkSize) {
        if (source == null) {
            throw new IllegalArgumentException("source: must not be null");
        }
        return of(source.readAll(), chunkSize);
    }

    /**
     * Features and labels chunked like Dask arrays (pyDVL's {@code DaskInfluenceCalculator} input).
     *
     * @param x features {@code [n, d]} (or {@code [n]}), chunked along dimension 0 only
     * @param y labels {@code [n]} or {@code [n, w]}, chunked exactly like x along dimension 0
     * @throws IllegalArgumentException if x and y are chunked differently along the sample dimension
     *     (misaligned chunking) or either is chunked along another dimension
     */
    static ChunkedData of(ChunkedArray x, ChunkedArray y) {
        if (x == null || y == null) {
            throw new IllegalArgumentException("x and y must not be null");
        }
        if (!Arrays.equals(x.rowChunks(), y.rowChunks())) {
            throw new IllegalArgumentException("misaligned chunking: x is chunked " + Arrays.toString(x.rowChunks())
                    + " along the sample dimension but y is chunked " + Arrays.toString(y.rowChunks())
                    + "; chunk x and y with the same sizes along dimension 0");
        }
        x.requireOnlyRowsChunked("x");
        y.requireOnlyRowsChunked("y");
        return new InMemory(new Batch(x.toHostArray().data(), x.rowWidth(), y.toHostArray().data(), y.rowWidth()),
                x.rowChunks());
    }

    /**
     * Data produced chunk by chunk by {@code generator}, never held in memory as a whole.
     *
     * @throws IllegalArgumentException if a size is not positive
     */
    static ChunkedData generated(long size, int chunkSize, int numFeatures, int labelWidth, Generator generator) {
        if (size <= 0 || chunkSize <= 0 || numFeatures <= 0 || labelWidth <= 0) {
            throw new IllegalArgumentException("size, chunkSize, numFeatures and labelWidth must be > 0, got " + size
                    + ", " + chunkSize + ", " + numFeatures + ", " + labelWidth);
        }
        if (generator == null) {
            throw new IllegalArgumentException("generator: must not be null");
        }
        return new Generated(ChunkedArray.regular(size, chunkSize), numFeatures, labelWidth, generator);
    }

    /** In-memory chunked data. */
    final class InMemory implements ChunkedData {
        private static final long serialVersionUID = 1L;
        private final Batch data;
        private final long[] sizes;
        private final long[] offsets;

        InMemory(Batch data, long[] sizes) {
            this.data = data;
            this.sizes = sizes.clone();
            this.offsets = new long[sizes.length];
            for (int k = 1; k < sizes.length; k++) {
                offsets[k] = offsets[k - 1] + sizes[k - 1];
            }
        }

        @Override
        public long[] chunkSizes() {
            return sizes.clone();
        }

        @Override
        public Batch chunk(int k) {
            return data.slice((int) offsets[k], (int) (offsets[k] + sizes[k]));
        }

        @Override
        public int numFeatures() {
            return data.numFeatures();
        }

        @Override
        public int labelWidth() {
            return data.labelWidth();
        }

        @Override
        public String toString() {
            return "ChunkedData[n=" + size() + ", " + sizes.length + " chunks]";
        }
    }

    /** Generated chunked data. */
    final class Generated implements ChunkedData {
        private static final long serialVersionUID = 1L;
        private final long[] sizes;
        private final int numFeatures;
        private final int labelWidth;
        private final Generator generator;

        Generated(long[] sizes, int numFeatures, int labelWidth, Generator generator) {
            this.sizes = sizes;
            this.numFeatures = numFeatures;
            this.labelWidth = labelWidth;
            this.generator = generator;
        }

        @Override
        public long[] chunkSizes() {
            return sizes.clone();
        }

        @Override
        public Batch chunk(int k) {
            long from = 0;
            for (int i = 0; i < k; i++) {
                from += sizes[i];
            }
            Batch b = generator.generate(from, (int) sizes[k]);
            if (b.size() != sizes[k] || b.numFeatures() != numFeatures || b.labelWidth() != labelWidth) {
                throw new IllegalStateException("generator returned " + b + " for chunk " + k + "; expected "
                        + sizes[k] + " samples with " + numFeatures + " features and label width " + labelWidth);
            }
            return b;
        }

        @Override
        public int numFeatures() {
            return numFeatures;
        }

        @Override
        public int labelWidth() {
            return labelWidth;
        }

        @Override
        public String toString() {
            return "ChunkedData[generated, n=" + size() + ", " + sizes.length + " chunks]";
        }
    }
}
