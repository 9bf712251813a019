package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape of a chunked result and its block grid. Dimension 0 is cut into {@code rowChunks},
 * dimension 1 into {@code colChunks}; further dimensions (the input features in PERTURBATION
 * mode) are never cut.
 *
 * @param shape     the full result shape, rank ≥ 2
 * @param rowChunks chunk sizes along dimension 0 (positive, summing to {@code shape[0]})
 * @param colChunks chunk sizes along dimension 1 (positive, summing to {@code shape[1]})
 */
public record ChunkLayout(long[] shape, long[] rowChunks, long[] colChunks) implements Serializable {

    /** @throws IllegalArgumentException naming the inconsistent argument */
    public ChunkLayout {
        if (shape == null || rowChunks == null || colChunks == null) {
            throw new IllegalArgumentException("layout: shape, rowChunks and colChunks must not be null");
        }
        if (shape.length < 2) {
            throw new IllegalArgumentException("layout: shape " + Arrays.toString(shape) + " must have rank >= 2");
        }
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("layout: shape " + Arrays.toString(shape) + " has a dimension <= 0");
            }
        }
        check("rowChunks", rowChunks, shape[0]);
        check("colChunks", colChunks, shape[1]);
        shape = shape.clone();
        rowChunks = rowChunks.clone();
        colChunks = colChunks.clone();
    }

    private static void check(String name, long[] chunks, long total) {
        if (chunks.length == 0) {
            throw new IllegalArgumentException("layout: " + name + " is empty");
        }
        long sum = 0;
        for (long c : chunks) {
            if (c <= 0) {
                throw new IllegalArgumentException("layout: " + name + " " + Arrays.toString(chunks)
                        + " contains a size <= 0");
            }
            sum += c;
        }
        if (sum != total) {
            throw new IllegalArgumentException("layout: " + name + " " + Arrays.toString(chunks) + " sum to " + sum
                    + " but the dimension has " + total);
        }
    }

    /** @return a layout whose grid cuts dimension 0 by {@code rowChunks} and dimension 1 by {@code colChunks} */
    public static ChunkLayout of(long[] rowChunks, long[] colChunks, long... trailing) {
        long[] shape = new long[2 + trailing.length];
        shape[0] = Arrays.stream(rowChunks).sum();
        shape[1] = Arrays.stream(colChunks).sum();
        System.arraycopy(trailing, 0, shape, 2, trailing.length);
        return new ChunkLayout(shape, rowChunks, colChunks);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long[] rowChunks() {
        return rowChunks.clone();
    }

    @Override
    public long[] colChunks() {
        return colChunks.clone();
    }

    /** @return the rank of the result */
    public int rank() {
        return shape.length;
    }

    /** @return the number of row chunks */
    public int numRowChunks() {
        return rowChunks.length;
    }

    /** @return the number of column chunks */
    public int numColChunks() {
        return colChunks.length;
    }

    /** @return the number of blocks */
    public long numChunks() {
        return (long) rowChunks.length * colChunks.length;
    }

    /** @return the first row of row chunk {@code i} */
    public long rowOffset(int i) {
        long o = 0;
        for (int k = 0; k < i; k++) {
            o += rowChunks[k];
        }
        return o;
    }

    /** @return the first column of column chunk {@code j} */
    public long colOffset(int j) {
        long o = 0;
        for (int k = 0; k < j; k++) {
            o += colChunks[k];
        }
        return o;
    }

    /** @return the product of the dimensions after the first two */
    public long trailing() {
        long t = 1;
        for (int d = 2; d < shape.length; d++) {
            t *= shape[d];
        }
        return t;
    }

    /** @return the shape of block (i, j) */
    public long[] chunkShape(ChunkIndex index) {
        long[] s = shape.clone();
        s[0] = rowChunks[index.row()];
        s[1] = colChunks[index.col()];
        return s;
    }

    /** @return every block index in row-major order */
    public List<ChunkIndex> indices() {
        List<ChunkIndex> all = new ArrayList<>((int) Math.min(Integer.MAX_VALUE, numChunks()));
        for (int i = 0; i < rowChunks.length; i++) {
            for (int j = 0; j < colChunks.length; j++) {
                all.add(new ChunkIndex(i, j));
            }
        }
        return all;
    }

    /**
     * Checks that {@code chunk} is block {@code chunk.index()} of this layout.
     *
     * @throws IllegalArgumentException if its position or shape does not match
     */
    public void validate(Chunk chunk) {
        ChunkIndex index = chunk.index();
        if (index.row() >= rowChunks.length || index.col() >= colChunks.length) {
            throw new IllegalArgumentException("chunk " + index + " is outside the grid of " + rowChunks.length + " x "
                    + colChunks.length + " blocks");
        }
        if (!Arrays.equals(chunk.shape(), chunkShape(index)) || chunk.rowOffset() != rowOffset(index.row())
                || chunk.colOffset() != colOffset(index.col())) {
            throw new IllegalArgumentException(chunk + " does not match block " + index + " of layout " + this
                    + ": expected shape " + Arrays.toString(chunkShape(index)) + " at (" + rowOffset(index.row())
                    + ", " + colOffset(index.col()) + ")");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkLayout l && Arrays.equals(l.shape, shape) && Arrays.equals(l.rowChunks, rowChunks)
                && Arrays.equals(l.colChunks, colChunks);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + Arrays.hashCode(rowChunks);
    }

    @Override
    public String toString() {
        return "ChunkLayout[shape=" + Arrays.toString(shape) + ", " + rowChunks.length + " x " + colChunks.length
                + " blocks]";
    }
}
