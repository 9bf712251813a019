package org.influence4j.calculators.attribution;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Bounded top-k selection over score blocks that arrive chunk by chunk: memory is O(m·k), never
 * O(m·n). Feeding the blocks of an m×n matrix in any chunking gives exactly {@link TopK#ofMatrix}
 * of the full matrix (same order, ties broken by the smaller training index). Not thread-safe.
 */
public final class StreamingTopK {

    private record Entry(double score, long index) {
    }

    private final int m;
    private final int k;
    private final TopKOrder order;
    private final PriorityQueue<Entry>[] heaps;
    /** Per row, the score of its heap's head once the heap holds k entries (NaN before). */
    private final double[] evictionScore;
    private long seen;

    /**
     * @param m     number of test points (rows), positive
     * @param k     entries kept per row, positive
     * @param order which end of the ranking to keep
     * @throws IllegalArgumentException naming the argument out of range
     */
    @SuppressWarnings("unchecked")
    public StreamingTopK(int m, int k, TopKOrder order) {
        if (m <= 0) {
            throw new IllegalArgumentException("test: need at least one test point, got " + m);
        }
        if (k <= 0) {
            throw new IllegalArgumentException("k: must be > 0, got " + k);
        }
        if (order == null) {
            throw new IllegalArgumentException("order: must not be null; use TopKOrder.PROPONENTS or OPPONENTS");
        }
        this.m = m;
        this.k = k;
        this.order = order;
        this.heaps = new PriorityQueue[m];
        this.evictionScore = new double[m];
        Arrays.fill(evictionScore, Double.NaN);
        for (int i = 0; i < m; i++) {
            // the head is the entry that ranks last, i.e. the first to evict
            heaps[i] = new PriorityQueue<>(k + 1, (a, b) -> a.index == b.index && Double.compare(a.score, b.score) == 0
                    ? 0 : order.ranksBefore(a.score, a.index, b.score, b.index) ? 1 : -1);
        }
    }

    /**
     * Adds a block of scores of training points {@code [offset, offset + cols)}.
     *
     * @param block  row-major {@code [m, cols]}
     * @param cols   number of training points in the block
     * @param offset training index of the block's first column
     * @throws IllegalArgumentException if the block length is not m·cols
     */
    public void accept(double[] block, int cols, long offset) {
        accept(block, 0, m, cols, offset);
    }

    /**
     * Adds a block of scores of the test rows {@code [rowOffset, rowOffset + rows)} and training
     * points {@code [offset, offset + cols)}.
     *
     * @param block     row-major {@code [rows, cols]}
     * @param rowOffset first test row of the block
     * @param rows      test rows in the block
     * @param cols      number of training points in the block
     * @param offset    training index of the block's first column
     * @throws IllegalArgumentException if the rows fall outside [0, m) or the block length is not rows·cols
     */
    public void accept(double[] block, int rowOffset, int rows, int cols, long offset) {
        if (rowOffset < 0 || rows < 0 || rowOffset + rows > m) {
            throw new IllegalArgumentException("block: rows [" + rowOffset + ", " + (rowOffset + rows)
                    + ") outside the " + m + " test rows");
        }
        if (cols < 0 || block.length != (long) rows * cols) {
            throw new IllegalArgumentException("block: length " + block.length + " is not " + rows + " x " + cols);
        }
        boolean proponents = order == TopKOrder.PROPONENTS;
        for (int i = 0; i < rows; i++) {
            PriorityQueue<Entry> heap = heaps[rowOffset + i];
            int base = i * cols;
            double eviction = evictionScore[rowOffset + i];
            for (int j = 0; j < cols; j++) {
                double s = block[base + j];
                // a score strictly worse than the head's cannot enter a full heap (false for NaNs and
                // before the heap is full, which take the exact test below)
                if (proponents ? s < eviction : s > eviction) {
                    continue;
                }
                long index = offset + j;
                if (heap.size() < k) {
                    heap.add(new Entry(s, index));
                } else {
                    Entry worst = heap.peek();
                    if (!order.ranksBefore(s, index, worst.score, worst.index)) {
                        continue;
                    }
                    heap.poll();
                    heap.add(new Entry(s, index));
                }
                if (heap.size() == k) {
                    eviction = heap.peek().score;
                }
            }
            evictionScore[rowOffset + i] = eviction;
        }
        seen = Math.max(seen, offset + cols);
    }

    /**
     * @param n the total number of training points that were fed
     * @return the selection, each row ordered as {@link TopK} documents
     * @throws IllegalArgumentException if k &gt; n
     */
    public TopK result(long n) {
        if (k > n) {
            throw new IllegalArgumentException("k: must be <= the number of training points " + n + ", got " + k);
        }
        long[][] indices = new long[m][];
        double[][] scores = new double[m][];
        for (int i = 0; i < m; i++) {
            PriorityQueue<Entry> copy = new PriorityQueue<>(heaps[i]);
            int size = copy.size();
            indices[i] = new long[size];
            scores[i] = new double[size];
            for (int r = size - 1; r >= 0; r--) {
                Entry e = copy.poll();
                indices[i][r] = e.index;
                scores[i][r] = e.score;
            }
        }
        return new TopK(indices, scores, order);
    }

    @Override
    public String toString() {
        return "StreamingTopK[m=" + m + ", k=" + k + ", " + order + ", seen=" + seen + "]";
    }
}
