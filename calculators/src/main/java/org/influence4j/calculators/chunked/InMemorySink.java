package org.influence4j.calculators.chunked;

import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;

/**
 * Collects every block into one double array in memory (pyDVL's {@code NestedTorchCatAggregator}).
 * Thread-safe: blocks cover disjoint regions; the result is complete once the run returned.
 */
public final class InMemorySink implements ChunkSink {

    private ChunkLayout layout;
    private double[] values;

    /**
     * @throws IllegalArgumentException if the result has more than {@code Integer.MAX_VALUE - 8} elements
     *     (write it to a {@link ZarrSink} instead)
     */
    @Override
    public synchronized void open(ChunkLayout newLayout) {
        long n = 1;
        for (long d : newLayout.shape()) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("layout: a result of shape " + Arrays.toString(newLayout.shape())
                    + " has " + n + " elements, too many for one Java array; stream it to a ZarrSink instead");
        }
        this.layout = newLayout;
        this.values = new double[(int) n];
    }

    @Override
    public void accept(Chunk chunk) {
        ChunkLayout l;
        double[] v;
        synchronized (this) {
            l = layout;
            v = values;
        }
        if (l == null) {
            throw new IllegalStateException("in-memory sink is not open");
        }
        l.validate(chunk);
        long[] shape = l.shape();
        long cols = shape[1];
        int t = chunk.trailing();
        double[] src = chunk.values();
        int blockCols = chunk.cols();
        for (int a = 0; a < chunk.rows(); a++) {
            long dst = ((chunk.rowOffset() + a) * cols + chunk.colOffset()) * t;
            System.arraycopy(src, a * blockCols * t, v, (int) dst, blockCols * t);
        }
    }

    /**
     * @return the collected result in double precision
     * @throws IllegalStateException if the sink was never opened
     */
    public synchronized HostArray result() {
        if (layout == null) {
            throw new IllegalStateException("in-memory sink is not open: nothing was computed");
        }
        return new HostArray(values, layout.shape(), DType.FLOAT64);
    }

    @Override
    public String toString() {
        return "InMemorySink" + (layout == null ? "" : Arrays.toString(layout.shape()));
    }
}
