package org.influence4j.calculators.chunked;

import java.util.PriorityQueue;

/**
 * Keeps, for every test row, the k training columns with the largest (proponents) or smallest
 * (opponents) influence, streaming: memory is {@code O(m·k)} whatever n is. UP-mode (rank-2)
 * results only. Ties are broken by the smaller column index, so sequential and parallel runs give
 * the same answer. Thread-safe.
 */
public final class TopKSink implements ChunkSink {

    private record Entry(double value, long index) {
    }

    /** Which end of each row to keep. */
    public enum Order {
        /** The k largest values (proponents), reported in descending order. */
        LARGEST,
        /** The k smallest values (opponents), reported in ascending order. */
        SMALLEST
    }

    /**
     * The top-k of every row.
     *
     * @param indices {@code indices[t]} are the kept column indices of row t, best first
     * @param values  the matching values
     */
    public record Result(long[][] indices, double[][] values) {
    }

    private final int k;
    private final Order order;
    private java.util.List<PriorityQueue<Entry>> heaps;

    /**
     * @param k     entries to keep per row, positive
     * @param order which end to keep
     * @throws IllegalArgumentException if {@code k <= 0} or {@code order} is null
     */
    public TopKSink(int k, Order order) {
        if (k <= 0) {
            throw new IllegalArgumentException("k: must be > 0, got " + k);
        }
        if (order == null) {
            throw new IllegalArgumentException("order: must not be null");
        }
        this.k = k;
        this.order = order;
    }

    /** @return a sink keeping the k largest values per row */
    public static TopKSink largest(int k) {
        return new TopKSink(k, Order.LARGEST);
    }

    /** @return a sink keeping the k smallest values per row */
    public static TopKSink smallest(int k) {
        return new TopKSink(k, Order.SMALLEST);
    }

    /** "Better" means larger (LARGEST) or smaller (SMALLEST); equal values: the smaller index is better. */
    private int compareBetter(Entry a, Entry b) {
        int c = Double.compare(a.value, b.value);
        if (order == Order.SMALLEST) {
            c = -c;
        }
        return c != 0 ? c : Long.compare(b.index, a.index);
    }

    /** @throws IllegalArgumentException if the layout is not rank 2 (PERTURBATION results are not ranked) */
    @Override
    public synchronized void open(ChunkLayout layout) {
        if (layout.rank() != 2) {
            throw new IllegalArgumentException("layout: top-k needs a rank-2 [m, n] result (UP mode), got shape "
                    + java.util.Arrays.toString(layout.shape()));
        }
        if (layout.shape()[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("layout: too many rows for a top-k sink: " + layout.shape()[0]);
        }
        int rows = (int) layout.shape()[0];
        heaps = new java.util.ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            heaps.add(new PriorityQueue<>(k + 1, this::compareBetter)); // head = worst kept
        }
    }

    @Override
    public synchronized void accept(Chunk chunk) {
        if (heaps == null) {
            throw new IllegalStateException("top-k sink is not open");
        }
        double[] v = chunk.values();
        int cols = chunk.cols();
        for (int a = 0; a < chunk.rows(); a++) {
            PriorityQueue<Entry> heap = heaps.get((int) (chunk.rowOffset() + a));
            for (int b = 0; b < cols; b++) {
                double value = v[a * cols + b];
                if (Double.isNaN(value)) {
                    continue;
                }
                Entry e = new Entry(value, chunk.colOffset() + b);
                if (heap.size() < k) {
                    heap.add(e);
                } else if (compareBetter(e, heap.peek()) > 0) {
                    heap.poll();
                    heap.add(e);
                }
            }
        }
    }

    /** @return the top-k of every row, best first */
    public synchronized Result result() {
        if (heaps == null) {
            throw new IllegalStateException("top-k sink is not open: nothing was computed");
        }
        long[][] idx = new long[heaps.size()][];
        double[][] val = new double[heaps.size()][];
        for (int t = 0; t < heaps.size(); t++) {
            Entry[] entries = heaps.get(t).toArray(new Entry[0]);
            java.util.Arrays.sort(entries, (a, b) -> compareBetter(b, a));
            idx[t] = new long[entries.length];
            val[t] = new double[entries.length];
            for (int r = 0; r < entries.length; r++) {
                idx[t][r] = entries[r].index;
                val[t][r] = entries[r].value;
            }
        }
        return new Result(idx, val);
    }

    @Override
    public String toString() {
        return "TopKSink[k=" + k + ", " + order + "]";
    }
}
