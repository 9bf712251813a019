package org.influence4j.calculators.chunked;

import java.io.Serializable;

/**
 * The position of one block in the chunk grid: {@code row} is the test (or factor) chunk,
 * {@code col} the training chunk (always 0 for influence factors).
 *
 * @param row chunk index along dimension 0, non-negative
 * @param col chunk index along dimension 1, non-negative
 */
public record ChunkIndex(int row, int col) implements Serializable, Comparable<ChunkIndex> {

    /** @throws IllegalArgumentException if an index is negative */
    public ChunkIndex {
        if (row < 0 || col < 0) {
            throw new IllegalArgumentException("chunk index: row and col must be >= 0, got (" + row + ", " + col + ")");
        }
    }

    /** Row-major order: by row, then by column. */
    @Override
    public int compareTo(ChunkIndex o) {
        return row != o.row ? Integer.compare(row, o.row) : Integer.compare(col, o.col);
    }

    @Override
    public String toString() {
        return "(" + row + ", " + col + ")";
    }
}
