package org.influence4j.graph;

import java.util.List;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.GraphNode;

/**
 * The primitive array operations a backend supplies so that the layer graph runs on it. Everything
 * else — nodes, losses, first and second derivatives, per-sample gradients, Gauss-Newton products —
 * is written once in this module over these kernels ({@link Autodiff}).
 *
 * <p><b>Contract.</b> Arrays are the backend's (type {@code A}); every result is a new array owned by
 * the kernels' current memory context (its lifetime is the caller's, e.g. one model call). No kernel
 * modifies its arguments. Floating-point arrays are in the model's dtype. Elementwise binary
 * operations take arrays of equal shape: broadcasting is explicit ({@link #expand}, {@link #sumTo}),
 * so every operation has an exact adjoint made of these kernels.
 *
 * @param <A> the backend's array type
 */
public interface Kernels<A> {

    /** @return a new array in the model dtype holding {@code values} (row-major) with {@code shape} */
    A constant(double[] values, long... shape);

    /** @return a new array of zeros in the model dtype; the default uploads them ({@link #constant}) */
    default A zeros(long... shape) {
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        return constant(new double[Math.toIntExact(size)], shape);
    }

    /**
     * @return a new array in the model dtype holding the host array's values (row-major) with
     *     {@code shape}; backends override this to upload float32 storage without converting it to
     *     doubles first
     */
    default A constant(HostArray values, long... shape) {
        return constant(values.doubles(), shape);
    }

    /** @return the shape of {@code a}, a new array the caller may change */
    long[] shape(A a);

    /** @return the values of {@code a}, row-major, as doubles */
    double[] toDoubles(A a);

    /** @return {@code a + b} (equal shapes) */
    A add(A a, A b);

    /** @return {@code a − b} (equal shapes) */
    A sub(A a, A b);

    /** @return {@code a ⊙ b} (equal shapes) */
    A mul(A a, A b);

    /** @return {@code a / b} elementwise (equal shapes) */
    A div(A a, A b);

    /** @return {@code c·a} */
    A scale(A a, double c);

    /** @return {@code a + c} */
    A addScalar(A a, double c);

    /**
     * Matrix product of rank-2 arrays {@code [m, k]·[k, n]}, or batched of rank-3 arrays
     * {@code [b, m, k]·[b, k, n]} with the same b.
     */
    A matmul(A a, A b);

    /** @return {@code a} with its axes reordered: axis i of the result is axis {@code axes[i]} of {@code a} */
    A permute(A a, int... axes);

    /** @return {@code a} with a new shape of the same size (row-major order kept) */
    A reshape(A a, long... shape);

    /** @return {@code a} broadcast to {@code shape} (same rank; only axes of size 1 grow) */
    A expand(A a, long... shape);

    /** @return the sums of {@code a} over the axes where {@code shape} has size 1 (same rank) */
    A sumTo(A a, long... shape);

    /** @return {@code exp(a)} */
    A exp(A a);

    /** @return {@code log(a)} */
    A log(A a);

    /** @return {@code tanh(a)} */
    A tanh(A a);

    /** @return {@code 1/(1 + exp(−a))} */
    A sigmoid(A a);

    /** @return the error function of {@code a} */
    A erf(A a);

    /** @return {@code √a} */
    A sqrt(A a);

    /** @return {@code log(1 + exp(a))} computed without overflow for every a (no threshold) */
    A softplus(A a);

    /** @return 1 where {@code a > threshold}, else 0 (model dtype) */
    A greaterMask(A a, double threshold);

    /** @return {@code max(a, 0)}; the default multiplies by {@link #greaterMask}, backends may do it in one call */
    default A relu(A a) {
        return mul(a, greaterMask(a, 0));
    }

    /** @return the one-hot mask of the first maximum along the last axis (model dtype, same shape) */
    A argmaxMask(A a);

    /** @return the maxima along the last axis, shape {@code [..., 1]} */
    A maxLast(A a);

    /**
     * @param a     a matrix {@code [m, c]}
     * @param index row numbers in {@code [0, m)}
     * @return the rows {@code a[index[j], :]}, shape {@code [index.length, c]}
     */
    A gatherRows(A a, int[] index);

    /**
     * Rows {@code [from, to)} of a matrix {@code [m, c]}, with zero rows where a row number falls
     * outside {@code [0, m)}: shape {@code [to − from, c]}.
     */
    A slicePadRows(A a, long from, long to);

    /**
     * Columns {@code [from, to)} of a matrix {@code [m, c]}, {@code 0 ≤ from ≤ to ≤ c}: shape
     * {@code [m, to − from]}. The default slices the transpose; backends may slice in place.
     */
    default A sliceColumns(A a, long from, long to) {
        return permute(slicePadRows(permute(a, 1, 0), from, to), 1, 0);
    }

    /**
     * Columns of a matrix {@code [m, c]} with a zero column where the index is {@code c}: the result
     * is {@code [m, index.length]} with column j equal to {@code a[:, index[j]]} (zero for
     * {@code index[j] = c}), rows kept contiguous. This is im2col's gather for convolutions and
     * pools (one row per sample and channel). The default transposes around {@link #gatherRows};
     * a backend that indexes along an axis natively overrides it and
     * {@link #scatterPaddedColumns}.
     *
     * @param index column numbers in {@code [0, c]}
     */
    default A gatherPaddedColumns(A a, int[] index) {
        long c = shape(a)[1];
        return permute(gatherRows(slicePadRows(permute(a, 1, 0), 0, c + 1), index), 1, 0);
    }

    /**
     * The adjoint of {@link #gatherPaddedColumns}: {@code out[:, r] = Σ_{j : index[j] = r} g[:, j]}
     * for {@code r < c} (what went to the zero column is dropped), shape {@code [m, c]}. The
     * default transposes around {@link #scatterRows}.
     */
    default A scatterPaddedColumns(A g, int[] index, int c) {
        return permute(slicePadRows(scatterRows(permute(g, 1, 0), index, c + 1), 0, c), 1, 0);
    }

    /**
     * im2col: the windows of {@code x [n, c, h, w]} as rows {@code [n·oh·ow, c·kh·kw]}, row
     * {@code (i, y, x)} the window of sample i at output position {@code (y, x)} (row-major), columns
     * {@code (channel, kernel row, kernel column)} row-major, zero where the window lies in the
     * padding. The default gathers {@link Windows#index()} from x seen as {@code [n, c·h·w]}
     * ({@link #gatherPaddedColumns}); a backend without a native column gather copies the kh·kw
     * strided views of x instead.
     */
    default A windows(A x, Windows windows) {
        long[] s = shape(x);
        long patch = s[1] * windows.kernel().h() * windows.kernel().w();
        return reshape(gatherPaddedColumns(reshape(x, s[0], s[1] * s[2] * s[3]), windows.index()),
                s[0] * (windows.index().length / patch), patch);
    }

    /**
     * The adjoint of {@link #windows}: {@code g [n·oh·ow, c·kh·kw]} to the input's shape
     * {@code [n, c, h, w]}, each input entry the sum of the entries of g that hold it in some window
     * (what fell in the padding is dropped). The default scatters ({@link #scatterPaddedColumns}).
     *
     * @param inputShape {@code [n, c, h, w]}
     */
    default A windowSums(A g, Windows windows, long[] inputShape) {
        long n = inputShape[0];
        long width = inputShape[1] * inputShape[2] * inputShape[3];
        return reshape(scatterPaddedColumns(reshape(g, n, windows.index().length), windows.index(), (int) width),
                inputShape);
    }

    /**
     * The windows of a 2-d convolution or pool ({@link #windows}) over inputs {@code [n, c, h, w]}:
     * PyTorch's geometry and the im2col gather index for one sample, the flat input position
     * {@code c·H·W + h·W + w} of each window entry in the layout of {@link #windows}, {@code c·H·W}
     * for the padding. The index is shared, not copied: nobody modifies it.
     *
     * @param kernel   the window's size
     * @param stride   the step between windows
     * @param padding  zeros on each side
     * @param dilation the step between a window's entries
     * @param index    the gather index ({@code oh·ow·c·kh·kw} entries)
     */
    record Windows(GraphNode.Pair kernel, GraphNode.Pair stride, GraphNode.Pair padding, GraphNode.Pair dilation,
                   int[] index) {

        /** @return oh, the output rows of an input of {@code height} rows (PyTorch's formula) */
        public long outputHeight(long height) {
            return (height + 2L * padding.h() - (long) dilation.h() * (kernel.h() - 1) - 1) / stride.h() + 1;
        }

        /** @return ow, the output columns of an input of {@code width} columns */
        public long outputWidth(long width) {
            return (width + 2L * padding.w() - (long) dilation.w() * (kernel.w() - 1) - 1) / stride.w() + 1;
        }
    }

    /**
     * {@link #scatterPaddedColumns} as gathers and one sum ({@link ScatterTable}), for backends
     * whose {@link #gatherPaddedColumns} is native: no transposes, exact in floating point.
     */
    static <A> A scatterPaddedColumnsByGather(Kernels<A> k, A g, int[] index, int c) {
        ScatterTable table = ScatterTable.ofPadded(index, c);
        long m = k.shape(g)[0];
        A gathered = k.gatherPaddedColumns(g, table.positions());
        A sums = k.sumTo(k.reshape(gathered, m, table.rows(), table.width()), m, table.rows(), 1);
        A compact = k.reshape(sums, m, table.rows());
        return table.targets() == null ? compact : k.gatherPaddedColumns(compact, table.targets());
    }

    /**
     * A native 2-d convolution (NCHW input {@code [n, c, h, w]}, weight {@code [o, c, kh, kw]}, bias
     * {@code [o]} or null; PyTorch's {@code conv2d} with the node's stride, padding and dilation),
     * for values that need no gradient and, where {@link #conv2dGradientsAreNative}, inside a
     * recorded operation whose adjoints the graph writes. Empty (the default) where the backend has
     * none; the graph then uses im2col and a matrix product.
     */
    default java.util.Optional<A> conv2dValue(A x, A weight, A bias, GraphNode.Conv2d conv) {
        return java.util.Optional.empty();
    }

    /**
     * A max pool whose windows {@link #tiles tile} the input without gathering windows: the maxima {@code [n, c, h/kh, w/kw]} and
     * the one-hot mask {@code [n, c, h, w]}, in the input's own layout, of the first maximum of each
     * window in row-major order (max_pool2d's rule). Empty (the default) where the backend has
     * no such kernel; the graph then gathers the windows.
     */
    default java.util.Optional<MaximaAndMask<A>> tiledMaxPool(A x, GraphNode.Pair kernel) {
        return java.util.Optional.empty();
    }

    /**
     * @param x      {@code [n, c, h, w]}, h and w multiples of the kernel's
     * @param kernel the tiles
     * @return the sum of each tile, {@code [n, c, h/kh, w/kw]} (the default: one reduction over the
     *     two in-tile axes; backends may add the tiles' strided views instead)
     */
    default A tileSums(A x, GraphNode.Pair kernel) {
        long[] s = shape(x);
        long oh = s[2] / kernel.h();
        long ow = s[3] / kernel.w();
        return reshape(sumTo(reshape(x, s[0], s[1], oh, kernel.h(), ow, kernel.w()), s[0], s[1], oh, 1, ow, 1),
                s[0], s[1], oh, ow);
    }

    /**
     * @param pool       a 2-d pool
     * @param inputShape its input {@code [n, c, h, w]}
     * @return whether the pool's windows tile the input: kernel = stride, no padding, h and w
     *     multiples of the kernel ({@link #tiledMaxPool})
     */
    static boolean tiles(GraphNode.Pool2d pool, long[] inputShape) {
        return pool.kernel().equals(pool.stride()) && pool.padding().h() == 0 && pool.padding().w() == 0
                && inputShape[2] % pool.kernel().h() == 0 && inputShape[3] % pool.kernel().w() == 0;
    }

    /**
     * @param maxima the window maxima
     * @param mask   the one-hot mask of each window's first maximum, shaped like the input
     * @param <A>    the backend's array type
     */
    record MaximaAndMask<A>(A maxima, A mask) {
    }

    /**
     * @return whether {@link #conv2dInputGradient} and {@link #conv2dWeightGradient} compute the
     *     input and weight gradients of {@code conv} natively (the default: no; the graph then
     *     differentiates im2col and a matrix product)
     */
    default boolean conv2dGradientsAreNative(GraphNode.Conv2d conv) {
        return false;
    }

    /**
     * The gradient with respect to the input of {@link #conv2dValue}: for an output gradient
     * {@code dy [n, o, oh, ow]} the input gradient {@code [n, c, h, w]}, the adjoint of the
     * convolution (PyTorch's {@code conv_transpose2d} of dy with the same weight). Only where
     * {@link #conv2dGradientsAreNative}.
     *
     * @throws UnsupportedOperationException where it is not
     */
    default A conv2dInputGradient(A dy, A weight, GraphNode.Conv2d conv) {
        throw new UnsupportedOperationException("this backend has no native convolution input gradient");
    }

    /**
     * The gradient with respect to the weight of {@link #conv2dValue}: for the input
     * {@code x [n, c, h, w]} and an output gradient {@code dy [n, o, oh, ow]}, the weight-shaped
     * {@code [o, c, kh, kw]} sum over samples and output positions of {@code dy ⊗ patch(x)} (what
     * PyTorch's convolution backward gives the weight). Only where {@link #conv2dGradientsAreNative}.
     *
     * @throws UnsupportedOperationException where it is not
     */
    default A conv2dWeightGradient(A x, A dy, GraphNode.Conv2d conv) {
        throw new UnsupportedOperationException("this backend has no native convolution weight gradient");
    }

    /**
     * A native 2-d max or average pool of {@code [n, c, h, w]} (PyTorch's {@code max_pool2d} /
     * {@code avg_pool2d} with {@code count_include_pad=True}, floor sizes), used for values that need
     * no gradient. Empty (the default) where the backend has none.
     */
    default java.util.Optional<A> pool2dValue(A x, GraphNode.Pool2d pool) {
        return java.util.Optional.empty();
    }

    /** @return the arrays joined along {@code axis} (equal shapes elsewhere) */
    A concat(List<A> arrays, int axis);

    /**
     * Runs {@code body} with kernels of a nested memory context whose arrays are freed when it
     * returns, except the body's results, which then belong to this context. Loops over directions
     * (block HVPs, Gauss-Newton blocks) and over chunks of a batch use it so that a call's memory
     * does not grow with their number. The default runs the body with these kernels (nothing is
     * freed early).
     */
    default List<A> scopedAll(java.util.function.Function<Kernels<A>, List<A>> body) {
        return body.apply(this);
    }

    /**
     * The adjoint of {@link #gatherRows}: {@code out[r, :] = Σ_{j : index[j] = r} g[j, :]}, shape
     * {@code [m, c]}. The default gathers through a table of the positions that feed each row
     * ({@link ScatterTable}) and sums them, so it needs only the kernels above; where a few targets
     * have far more sources than the rest (the frequent tokens of an Embedding's gradient) it sums
     * them in levels ({@link ScatterTable.Split}), so that no table is much larger than the index. A
     * backend with a native scatter-add may override it.
     */
    default A scatterRows(A g, int[] index, int m) {
        ScatterTable.Split split = ScatterTable.Split.of(index, m);
        if (split == null) {
            return scatterByTable(this, g, ScatterTable.of(index, m));
        }
        return scatterRows(scatterByTable(this, g, ScatterTable.of(split.index(), split.rows())), split.targets(), m);
    }

    /**
     * {@link #scatterPaddedColumns} as {@link #scatterRows}' gathers and sum on the transpose, with the
     * entries that point to the zero column left out of the table: a padded im2col gather reads that
     * column once per padded position, so with it the table would be as wide as all of them together
     * (the whole gradient gathered again per target). For engines without a native scatter or column
     * gather.
     */
    static <A> A scatterPaddedColumnsByRowTable(Kernels<A> k, A g, int[] index, int c) {
        return k.permute(scatterByTable(k, k.permute(g, 1, 0), ScatterTable.ofPadded(index, c)), 1, 0);
    }

    /** The rows of {@code g [len, c]} summed per target of {@code table} by one gather and one sum. */
    private static <A> A scatterByTable(Kernels<A> k, A g, ScatterTable table) {
        long[] s = k.shape(g);
        A padded = k.slicePadRows(g, 0, s[0] + 1); // the last row is zero
        A gathered = k.gatherRows(padded, table.positions());
        A blocks = k.reshape(gathered, table.rows(), table.width(), s[1]);
        A sums = k.sumTo(blocks, table.rows(), 1, s[1]);
        A compact = k.reshape(sums, table.rows(), s[1]);
        if (table.targets() == null) {
            return compact;
        }
        return k.gatherRows(k.slicePadRows(compact, 0, table.rows() + 1L), table.targets());
    }
}
