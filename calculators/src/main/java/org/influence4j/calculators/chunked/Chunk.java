package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.Arrays;
import org.influence4j.api.data.HostArray;

/**
 * One computed block of a chunked result, on the Java heap.
 *
 * <p>{@code shape} is the block's own shape: {@code [rows, cols]} (influences in UP mode and
 * influence factors, where cols = p), or {@code [rows, cols, numFeatures]} (PERTURBATION mode).
 * Element {@code values[k]} (row-major) is the result's element at
 * {@code (rowOffset + a, colOffset + b, ...)}.
 *
 * <p>The {@code values} array is not copied; do not modify it after construction.
 *
 * @param index     the block's position in the grid
 * @param rowOffset first result row covered by this block
 * @param colOffset first result column covered by this block
 * @param shape     the block's shape (rank ≥ 2)
 * @param values    row-major values, length = product of {@code shape}
 */
public record Chunk(ChunkIndex index, long rowOffset, long colOffset, long[] shape, double[] values)
        implements Serializable {

    /** @throws IllegalArgumentException if the shape and values disagree or an argument is null */
    public Chunk {
        if (index == null || shape == null || values == null) {
            throw new IllegalArgumentException("chunk: index, shape and values must not be null");
        }
        if (shape.length < 2) {
            throw new IllegalArgumentException("chunk: shape " + Arrays.toString(shape) + " must have rank >= 2");
        }
        if (rowOffset < 0 || colOffset < 0) {
            throw new IllegalArgumentException("chunk: offsets must be >= 0, got " + rowOffset + ", " + colOffset);
        }
        long n = 1;
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("chunk: shape " + Arrays.toString(shape) + " has a dimension <= 0");
            }
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException("chunk: shape " + Arrays.toString(shape) + " holds " + n
                    + " values but " + values.length + " were given");
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return rows of this block */
    public int rows() {
        return (int) shape[0];
    }

    /** @return columns of this block */
    public int cols() {
        return (int) shape[1];
    }

    /** @return the product of the dimensions after the first two (1 for rank-2 blocks) */
    public int trailing() {
        int t = 1;
        for (int d = 2; d < shape.length; d++) {
            t *= (int) shape[d];
        }
        return t;
    }

    /** @return the values as a {@link HostArray} in double precision (not copied) */
    public HostArray toHostArray() {
        return new HostArray(values, shape, org.influence4j.api.DType.FLOAT64);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Chunk c && c.index.equals(index) && c.rowOffset == rowOffset && c.colOffset == colOffset
                && Arrays.equals(c.shape, shape) && Arrays.equals(c.values, values);
    }

    @Override
    public int hashCode() {
        return index.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "Chunk" + index + Arrays.toString(shape) + " at (" + rowOffset + ", " + colOffset + ")";
    }
}
