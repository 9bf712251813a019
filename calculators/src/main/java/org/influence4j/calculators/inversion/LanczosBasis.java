package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * The Lanczos basis of {@link ArnoldiSolver}: orthonormal rows {@code [c, p]} held as blocks, new
 * rows joined to the last block until it holds {@value #BLOCK_BYTES} bytes, so that adding a row
 * copies at most that block and not the whole basis (copies that grow as c²·p: 31% of a rank-50
 * fit with p = 1.9 M). Bases of up to that size stay one block, as one product is then cheaper
 * than one per block. Owns its blocks; not thread-safe.
 */
final class LanczosBasis implements AutoCloseable {
    /** The most bytes a growing block reaches before a new one starts. */
    static final long BLOCK_BYTES = 64L << 20;
    private final int blockRows;
    private final List<Tensor> blocks = new ArrayList<>();
    private int rows;

    /**
     * @param rowBytes   the bytes of one row ({@code p} values)
     * @param blockBytes the most bytes a growing block reaches ({@link #BLOCK_BYTES} in the solver)
     */
    LanczosBasis(long rowBytes, long blockBytes) {
        this.blockRows = (int) Math.max(1, Math.min(Integer.MAX_VALUE, blockBytes / rowBytes));
    }

    /** Adds the rows of {@code block} {@code [j, p]} after the others; takes ownership of it. */
    void append(Tensor block) {
        int last = blocks.size() - 1;
        if (last >= 0 && blocks.get(last).shape()[0] < blockRows) {
            Tensor grown = blocks.get(last).concat(block);
            blocks.get(last).close();
            block.close();
            blocks.set(last, grown);
        } else {
            blocks.add(block);
        }
        rows = 0;
        for (Tensor b : blocks) {
            rows += (int) b.shape()[0];
        }
    }

    /** @return row i as a {@code [1, p]} block (close it) */
    Tensor row(int i) {
        int start = 0;
        for (Tensor b : blocks) {
            int size = (int) b.shape()[0];
            if (i < start + size) {
                return b.rows(i - start, i - start + 1);
            }
            start += size;
        }
        throw new IndexOutOfBoundsException("row " + i + " of " + rows);
    }

    /** @return the inner products of the rows with the row {@code w} {@code [1, p]} */
    double[] dots(Tensor w) {
        double[] out = new double[rows];
        int start = 0;
        for (Tensor b : blocks) {
            double[][] g = DenseLinalg.gram(b, w);
            for (int i = 0; i < g.length; i++) {
                out[start + i] = g[i][0];
            }
            start += g.length;
        }
        return out;
    }

    /**
     * @return {@code c · rows}, {@code [k, p]} from coefficients {@code k x c}, in {@code scope}, one
     *     product per block (for few rows k: the partial sums are as large as the result)
     */
    Tensor combine(double[][] c, TensorScope scope) {
        Tensor sum = null;
        int start = 0;
        for (Tensor b : blocks) {
            int size = (int) b.shape()[0];
            double[][] part = new double[c.length][];
            for (int i = 0; i < c.length; i++) {
                part[i] = Arrays.copyOfRange(c[i], start, start + size);
            }
            Tensor term = DenseLinalg.combine(part, b, scope);
            if (sum == null) {
                sum = term;
            } else {
                Tensor next = sum.add(term);
                sum.close();
                term.close();
                sum = next;
            }
            start += size;
        }
        return sum;
    }

    /**
     * @return {@code c · rows} {@code [k, p]} as one product of the joined blocks, in {@code scope};
     *     empties this basis (its blocks are closed once joined)
     */
    Tensor closeInto(double[][] c, TensorScope scope) {
        Tensor joined = RowBlocks.concatAll(blocks);
        blocks.clear();
        rows = 0;
        try {
            return DenseLinalg.combine(c, joined, scope);
        } finally {
            joined.close();
        }
    }

    @Override
    public void close() {
        blocks.forEach(Tensor::close);
        blocks.clear();
        rows = 0;
    }
}
