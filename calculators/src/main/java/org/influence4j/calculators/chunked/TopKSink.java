package org.influence4j.calculators.chunked;

import java.util.Arrays;
import org.influence4j.calculators.attribution.StreamingTopK;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;

/**
 * Keeps, for every test row, the k training columns with the largest (proponents) or smallest
 * (opponents) influence, streaming through a {@link StreamingTopK}: memory is {@code O(m·k)}
 * whatever n is. UP-mode (rank-2) results only. Ties are broken by the smaller column index and
 * NaN ranks last, so sequential and parallel runs give the same answer as {@link TopK#ofMatrix}
 * of the full matrix. Thread-safe.
 */
public final class TopKSink implements ChunkSink {

    private final int k;
    private final TopKOrder order;
    private StreamingTopK selection;
    private long columns;

    /**
     * @param k     entries to keep per row, positive (and at most n when the result is read)
     * @param order which end to keep
     * @throws IllegalArgumentException if {@code k <= 0} or {@code order} is null
     */
    public TopKSink(int k, TopKOrder order) {
        if (k <= 0) {
            throw new IllegalArgumentException("k: must be > 0, got " + k);
        }
        if (order == null) {
            throw new IllegalArgumentException("order: must not be null; use TopKOrder.PROPONENTS or OPPONENTS");
        }
        this.k = k;
        this.order = order;
    }

    /** @return a sink keeping the k largest values per row (proponents) */
    public static TopKSink largest(int k) {
        return new TopKSink(k, TopKOrder.PROPONENTS);
    }

    /** @return a sink keeping the k smallest values per row (opponents) */
    public static TopKSink smallest(int k) {
        return new TopKSink(k, TopKOrder.OPPONENTS);
    }

    /** @throws IllegalArgumentException if the layout is not rank 2 (PERTURBATION results are not ranked) */
    @Override
    public synchronized void open(ChunkLayout layout) {
        if (layout.rank() != 2) {
            throw new IllegalArgumentException("layout: top-k needs a rank-2 [m, n] result (UP mode), got shape "
                    + Arrays.toString(layout.shape()));
        }
        if (layout.shape()[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("layout: too many rows for a top-k sink: " + layout.shape()[0]);
        }
        selection = new StreamingTopK((int) layout.shape()[0], k, order);
        columns = layout.shape()[1];
    }

    @Override
    public synchronized void accept(Chunk chunk) {
        if (selection == null) {
            throw new IllegalStateException("top-k sink is not open");
        }
        selection.accept(chunk.values(), Math.toIntExact(chunk.rowOffset()), chunk.rows(), chunk.cols(),
                chunk.colOffset());
    }

    /**
     * @return the top-k of every row, best first
     * @throws IllegalArgumentException if k exceeds the number of training columns
     */
    public synchronized TopK result() {
        if (selection == null) {
            throw new IllegalStateException("top-k sink is not open: nothing was computed");
        }
        return selection.result(columns);
    }

    @Override
    public String toString() {
        return "TopKSink[k=" + k + ", " + order + "]";
    }
}
