package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;

/**
 * A dense array on the heap with an explicit chunking per dimension, like a Dask array's
 * {@code chunks}: {@code chunks[d]} lists the chunk sizes along dimension d. The calculators accept
 * arrays chunked along dimension 0 (samples) only; {@link #requireOnlyRowsChunked} says so clearly.
 */
public final class ChunkedArray implements Serializable {

    private static final long serialVersionUID = 1L;

    private final double[] data;
    private final long[] shape;
    private final long[][] chunks;

    private ChunkedArray(double[] data, long[] shape, long[][] chunks) {
        this.data = data;
        this.shape = shape;
        this.chunks = chunks;
    }

    /**
     * @param array  the values (not copied; do not modify afterwards)
     * @param chunks chunk sizes per dimension; {@code chunks.length} must equal the rank and each
     *               list must sum to that dimension
     * @throws IllegalArgumentException naming the inconsistent dimension
     */
    public static ChunkedArray of(HostArray array, long[]... chunks) {
        if (array == null || chunks == null) {
            throw new IllegalArgumentException("array and chunks must not be null");
        }
        long[] shape = array.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException("array: a chunked array needs rank >= 1, got a scalar");
        }
        if (chunks.length != shape.length) {
            throw new IllegalArgumentException("chunks: " + chunks.length + " chunk lists for an array of rank "
                    + shape.length + "; give one list per dimension");
        }
        long[][] copy = new long[chunks.length][];
        for (int d = 0; d < shape.length; d++) {
            long sum = 0;
            for (long c : chunks[d]) {
                if (c <= 0) {
                    throw new IllegalArgumentException("chunks[" + d + "]: " + Arrays.toString(chunks[d])
                            + " contains a size <= 0");
                }
                sum += c;
            }
            if (sum != shape[d] || chunks[d].length == 0) {
                throw new IllegalArgumentException("chunks[" + d + "]: " + Arrays.toString(chunks[d]) + " sum to " + sum
                        + " but dimension " + d + " has " + shape[d]);
            }
            copy[d] = chunks[d].clone();
        }
        return new ChunkedArray(array.data(), shape, copy);
    }

    /**
     * Chunks dimension 0 into pieces of {@code chunkSize} (the last may be smaller); other dimensions
     * are one chunk each.
     *
     * @throws IllegalArgumentException if {@code chunkSize <= 0}
     */
    public static ChunkedArray byRows(HostArray array, long chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunkSize: must be > 0, got " + chunkSize);
        }
        long[] shape = array.shape();
        long[][] chunks = new long[shape.length][];
        chunks[0] = regular(shape[0], chunkSize);
        for (int d = 1; d < shape.length; d++) {
            chunks[d] = new long[] {shape[d]};
        }
        return of(array, chunks);
    }

    /** @return sizes {@code [c, c, ..., rest]} covering {@code total} */
    static long[] regular(long total, long chunkSize) {
        int count = (int) ((total + chunkSize - 1) / chunkSize);
        long[] sizes = new long[count];
        for (int k = 0; k < count; k++) {
            sizes[k] = Math.min(chunkSize, total - k * chunkSize);
        }
        return sizes;
    }

    /** @return a copy of the shape */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the chunk sizes along dimension {@code d} (a copy) */
    public long[] chunks(int d) {
        return chunks[d].clone();
    }

    /** @return the chunk sizes along dimension 0 (a copy) */
    public long[] rowChunks() {
        return chunks[0].clone();
    }

    /** @return the number of values per row (product of dimensions 1..) */
    public int rowWidth() {
        long w = 1;
        for (int d = 1; d < shape.length; d++) {
            w *= shape[d];
        }
        return (int) w;
    }

    /**
     * @param name the argument name used in the message
     * @throws IllegalArgumentException if a dimension other than 0 is cut into more than one chunk
     *     (pyDVL's {@code _validate_dimensions_not_chunked})
     */
    public void requireOnlyRowsChunked(String name) {
        for (int d = 1; d < shape.length; d++) {
            if (chunks[d].length != 1) {
                throw new IllegalArgumentException(name + ": chunked along dimension " + d + " into "
                        + Arrays.toString(chunks[d]) + "; only the sample dimension 0 may be chunked — rechunk "
                        + name + " with a single chunk of size " + shape[d] + " along dimension " + d);
            }
        }
    }

    /** @return the rows of chunk {@code k} along dimension 0, row-major (a copy) */
    public double[] rowChunk(int k) {
        long from = 0;
        for (int i = 0; i < k; i++) {
            from += chunks[0][i];
        }
        int w = rowWidth();
        return Arrays.copyOfRange(data, (int) (from * w), (int) ((from + chunks[0][k]) * w));
    }

    /** @return the whole array as a {@link HostArray} in double precision (not copied) */
    public HostArray toHostArray() {
        return new HostArray(data, shape, DType.FLOAT64);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ChunkedArray").append(Arrays.toString(shape)).append(" chunks (");
        for (int d = 0; d < chunks.length; d++) {
            sb.append(d == 0 ? "" : ", ").append(Arrays.toString(chunks[d]));
        }
        return sb.append(')').toString();
    }
}
