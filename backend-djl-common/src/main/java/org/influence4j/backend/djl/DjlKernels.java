package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.GraphNode;
import org.influence4j.graph.Kernels;

/**
 * The layer graph's primitive {@link Kernels} on DJL {@link NDArray}s, engine-independent: every
 * result is attached to one {@link NDManager} (the memory context of one model call, closed by the
 * caller), also when an operand is a long-lived parameter, in one floating-point type. Host data becomes arrays through a {@link Uploader}, so that
 * an engine can make arrays whose memory it owns (see the PyTorch backend's {@code PtArrays}).
 */
public final class DjlKernels implements Kernels<NDArray> {

    /** Makes an array of the kernels' type from host data. */
    @FunctionalInterface
    public interface Uploader {
        /**
         * @return an array holding {@code data} (any storage; its own shape is ignored) with {@code shape}
         *     and {@code type}, attached to {@code manager}
         */
        NDArray upload(NDManager manager, HostArray data, Shape shape, DataType type);

        /** @return {@link #upload(NDManager, HostArray, Shape, DataType)} of float64 values */
        default NDArray upload(NDManager manager, double[] data, Shape shape, DataType type) {
            return upload(manager, new HostArray(data, new long[] {data.length}, DType.FLOAT64), shape, type);
        }
    }

    /**
     * What the engine does beyond DJL's common {@code NDArray} API: gathering rows of a matrix (the
     * engine's part of {@link Kernels#gatherRows}) and, where it can, gathering columns
     * ({@link Kernels#gatherPaddedColumns}) and running convolutions and pools natively
     * ({@link Kernels#conv2dValue}, {@link Kernels#pool2dValue}).
     */
    @FunctionalInterface
    public interface EngineOps {
        /** @return rows {@code index} of the matrix {@code a}, attached to {@code manager} */
        NDArray gather(NDManager manager, NDArray a, int[] index);

        /** @return whether {@link #gatherColumns} indexes along axis 1 natively (default: no) */
        default boolean gathersColumns() {
            return false;
        }

        /**
         * @return columns {@code index} of the matrix {@code a} {@code [m, c]}, contiguous
         *     {@code [m, index.length]}, attached to {@code manager}
         * @throws UnsupportedOperationException unless {@link #gathersColumns()} (the kernels then
         *     transpose around {@link #gather})
         */
        default NDArray gatherColumns(NDManager manager, NDArray a, int[] index) {
            throw new UnsupportedOperationException("this engine does not gather columns");
        }

        /**
         * @return whether DJL's {@code Conv2d.conv2d}, {@code Pool.maxPool2d} and {@code Pool.avgPool2d}
         *     run on this engine with PyTorch's semantics (default: no)
         */
        default boolean nativeLayers() {
            return false;
        }
    }

    /**
     * @return {@code index} as an int64 array made through {@code uploader} (exact: row numbers are
     *     far below 2⁵³), for engines whose arrays from Java data live in direct buffers
     */
    public static NDArray indexArray(NDManager m, Uploader uploader, int[] index) {
        double[] values = new double[index.length];
        for (int i = 0; i < index.length; i++) {
            values[i] = index[i];
        }
        try (NDArray floats = uploader.upload(m, values, new Shape(index.length), DataType.FLOAT64)) {
            return floats.toType(DataType.INT64, false);
        }
    }

    private final NDManager manager;
    private final DataType type;
    private final Uploader uploader;
    private final EngineOps engineOps;
    /** {@link #zeroBlock}'s arrays by shape. */
    private final java.util.Map<Shape, NDArray> zeroBlocks = new java.util.HashMap<>();

    /**
     * @param manager  where every result is created (the caller closes it)
     * @param type     FLOAT32 or FLOAT64
     * @param uploader  how host data becomes arrays
     * @param engineOps what the engine does natively
     */
    public DjlKernels(NDManager manager, DataType type, Uploader uploader, EngineOps engineOps) {
        this.manager = manager;
        this.type = type;
        this.uploader = uploader;
        this.engineOps = engineOps;
    }

    @Override
    public NDArray constant(double[] values, long... shape) {
        return uploader.upload(manager, values, new Shape(shape), type);
    }

    @Override
    public NDArray constant(HostArray values, long... shape) {
        return uploader.upload(manager, values, new Shape(shape), type);
    }

    /** Made by the engine, not uploaded. */
    @Override
    public NDArray zeros(long... shape) {
        return manager.zeros(new Shape(shape), type);
    }

    @Override
    public long[] shape(NDArray a) {
        return a.getShape().getShape().clone();
    }

    @Override
    public double[] toDoubles(NDArray a) {
        return a.getDataType() == DataType.FLOAT64 ? a.toDoubleArray() : a.toType(DataType.FLOAT64, true)
                .toDoubleArray();
    }

    @Override
    public NDArray add(NDArray a, NDArray b) {
        return own(a.add(b));
    }

    @Override
    public NDArray sub(NDArray a, NDArray b) {
        return own(a.sub(b));
    }

    @Override
    public NDArray mul(NDArray a, NDArray b) {
        return own(a.mul(b));
    }

    @Override
    public NDArray div(NDArray a, NDArray b) {
        return own(a.div(b));
    }

    @Override
    public NDArray scale(NDArray a, double c) {
        return own(a.mul(scalar(c)));
    }

    @Override
    public NDArray addScalar(NDArray a, double c) {
        return own(a.add(scalar(c)));
    }

    /**
     * A 0-dimensional array made by the {@link Uploader}: DJL would otherwise wrap a Java number in
     * a new direct buffer per operation, whose native memory only a later garbage collection frees.
     */
    private NDArray scalar(double c) {
        return uploader.upload(manager, new double[] {c}, new Shape(), type);
    }

    @Override
    public NDArray matmul(NDArray a, NDArray b) {
        return own(a.matMul(b));
    }

    @Override
    public NDArray permute(NDArray a, int... axes) {
        return own(a.transpose(axes));
    }

    @Override
    public NDArray reshape(NDArray a, long... shape) {
        return own(a.reshape(shape));
    }

    @Override
    public NDArray expand(NDArray a, long... shape) {
        return own(a.broadcast(shape));
    }

    @Override
    public NDArray sumTo(NDArray a, long... shape) {
        long[] s = shape(a);
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if (shape[i] == 1 && s[i] != 1) {
                axes.add(i);
            }
        }
        if (axes.isEmpty()) {
            return own(a.reshape(shape));
        }
        return own(a.sum(axes.stream().mapToInt(Integer::intValue).toArray(), true));
    }

    @Override
    public NDArray exp(NDArray a) {
        return own(a.exp());
    }

    @Override
    public NDArray log(NDArray a) {
        return own(a.log());
    }

    @Override
    public NDArray tanh(NDArray a) {
        return own(a.tanh());
    }

    @Override
    public NDArray sigmoid(NDArray a) {
        return own(a.getNDArrayInternal().sigmoid());
    }

    @Override
    public NDArray erf(NDArray a) {
        return own(a.erf());
    }

    @Override
    public NDArray sqrt(NDArray a) {
        return own(a.sqrt());
    }

    @Override
    public NDArray softplus(NDArray a) {
        // max(a, 0) + log(1 + exp(−|a|)): no overflow for any a
        return own(own(a.maximum(scalar(0))).add(own(own(own(own(a.abs()).neg()).exp()).add(scalar(1))).log()));
    }

    @Override
    public NDArray greaterMask(NDArray a, double threshold) {
        return own(maskValues(own(a.gt(scalar(threshold))), type));
    }

    /**
     * A boolean mask as the values 0 and 1 of {@code type}, converted through uint8: libtorch
     * converts bool to floating point in a scalar loop and uint8 in a vectorised one (a mask of 1.2 M
     * values, one thread: 0.8-1.1 ms directly, 0.2 ms in both steps). The values are the same.
     *
     * @return a new array, owned by the caller ({@code mask} is left open)
     */
    public static NDArray maskValues(NDArray mask, DataType type) {
        try (NDArray bytes = mask.toType(DataType.UINT8, false)) {
            return bytes.toType(type, false);
        }
    }

    @Override
    public NDArray argmaxMask(NDArray a) {
        long[] s = shape(a);
        int width = (int) s[s.length - 1];
        if (!bySlices(width)) {
            NDArray index = own(a.argMax(s.length - 1));
            return own(index.oneHot(width, type));
        }
        NDArray[] slices = lastAxisSlices(a, width);
        NDList masks = new NDList(firstMaxima(slices, maxOf(slices)));
        return own(maskValues(own(NDArrays.stack(masks, s.length - 1)), type));
    }

    @Override
    public NDArray maxLast(NDArray a) {
        long[] s = shape(a);
        int width = (int) s[s.length - 1];
        return bySlices(width) ? own(maxOf(lastAxisSlices(a, width)).expandDims(s.length - 1))
                : own(a.max(new int[] {s.length - 1}, true));
    }

    /**
     * From strided views of the input seen as {@code [n, c, oh, kh, ow, kw]}: one view per window
     * position, their elementwise maxima, and the masks of the first view equal to them (in
     * row-major window order) stacked back into the input's layout.
     */
    @Override
    public Optional<MaximaAndMask<NDArray>> tiledMaxPool(NDArray x, GraphNode.Pair kernel) {
        if (!engineOps.nativeLayers()) {
            return Optional.empty();
        }
        long[] s = shape(x);
        int kh = kernel.h();
        int kw = kernel.w();
        NDArray[] views = tileViews(x, kernel);
        NDArray max = tileMaxima(x, kernel);
        NDArray[] first = firstMaxima(views, max);
        NDList rows = new NDList(kh);
        for (int dy = 0; dy < kh; dy++) {
            rows.add(own(NDArrays.stack(new NDList(java.util.Arrays.copyOfRange(first, dy * kw, (dy + 1) * kw)), 4)));
        }
        NDArray mask = own(maskValues(own(own(NDArrays.stack(rows, 3)).reshape(s)), type));
        return Optional.of(new MaximaAndMask<>(max, mask));
    }

    /** @return the strided views {@code x[:, :, dy::kh, dx::kw]} of a tiling pool's window positions, row-major */
    private NDArray[] tileViews(NDArray x, GraphNode.Pair kernel) {
        long[] s = shape(x);
        int kh = kernel.h();
        int kw = kernel.w();
        NDArray blocks = own(x.reshape(s[0], s[1], s[2] / kh, kh, s[3] / kw, kw));
        NDArray[] views = new NDArray[kh * kw];
        for (int j = 0; j < views.length; j++) {
            views[j] = own(blocks.get(":, :, :, {}, :, {}", j / kw, j % kw));
        }
        return views;
    }

    /**
     * The maxima of a tiling pool's windows, separably ({@link #tileReduce}); twice as fast as the
     * maxima of the kh·kw strided views on PyTorch.
     */
    private NDArray tileMaxima(NDArray x, GraphNode.Pair kernel) {
        return tileReduce(x, kernel, NDArray::maximum);
    }

    /**
     * Separably ({@link #tileReduce}); on PyTorch six times as fast as the reduction over the in-tile
     * axes.
     */
    @Override
    public NDArray tileSums(NDArray x, GraphNode.Pair kernel) {
        return tileReduce(x, kernel, NDArray::add);
    }

    /**
     * Each tile of {@code x [n, c, h, w]} reduced by {@code combine},
     * separably: first across the kernel's rows (slices of whole input rows, contiguous), then across
     * its columns on the result, half the data for a 2x2 kernel.
     *
     * @return {@code [n, c, h/kh, w/kw]}
     */
    private NDArray tileReduce(NDArray x, GraphNode.Pair kernel, java.util.function.BinaryOperator<NDArray> combine) {
        long[] s = shape(x);
        int kh = kernel.h();
        int kw = kernel.w();
        NDArray rows = own(x.reshape(s[0], s[1], s[2] / kh, kh, s[3]));
        NDArray[] rowViews = new NDArray[kh];
        for (int dy = 0; dy < kh; dy++) {
            rowViews[dy] = own(rows.get(":, :, :, {}, :", dy));
        }
        NDArray columns = own(fold(rowViews, combine).reshape(s[0], s[1], s[2] / kh, s[3] / kw, kw));
        return own(fold(lastAxisSlices(columns, kw), combine).reshape(s[0], s[1], s[2] / kh, s[3] / kw));
    }

    private NDArray maxOf(NDArray[] views) {
        return fold(views, NDArray::maximum);
    }

    /** @return {@code combine(…combine(views[0], views[1])…, views[last])}, owned */
    private NDArray fold(NDArray[] views, java.util.function.BinaryOperator<NDArray> combine) {
        NDArray result = views[0];
        for (int j = 1; j < views.length; j++) {
            result = own(combine.apply(result, views[j]));
        }
        return result;
    }

    /** Pool windows (a short last axis): elementwise maxima of its slices, 20x faster than a reduction on PyTorch. */
    private boolean bySlices(int width) {
        return engineOps.nativeLayers() && width > 1 && width <= MAX_SLICED_WIDTH;
    }

    private static final int MAX_SLICED_WIDTH = 16;
    private static final String LAST_AXIS = "..., {}";

    /** @return the slices {@code a[..., j]} of the last axis (of {@code width}) */
    private NDArray[] lastAxisSlices(NDArray a, int width) {
        NDArray[] slices = new NDArray[width];
        for (int j = 0; j < width; j++) {
            slices[j] = own(a.get(LAST_AXIS, j));
        }
        return slices;
    }

    /**
     * @return per view, the boolean mask of where it is the first (in view order) to equal
     *     {@code max}: {@code [v_j = max] ∧ ¬(some earlier view equal)}, argmax's tie rule
     */
    private NDArray[] firstMaxima(NDArray[] views, NDArray max) {
        NDArray[] first = new NDArray[views.length];
        NDArray taken = null;
        for (int j = 0; j < views.length; j++) {
            NDArray equal = own(views[j].eq(max));
            first[j] = taken == null ? equal : own(equal.logicalAnd(own(taken.logicalNot())));
            taken = taken == null ? equal : own(taken.logicalOr(equal));
        }
        return first;
    }

    @Override
    public NDArray gatherRows(NDArray a, int[] index) {
        return own(engineOps.gather(manager, a, index));
    }

    @Override
    public NDArray relu(NDArray a) {
        return own(Activation.relu(a));
    }

    /** DJL's {@code Conv2d.conv2d} where the engine runs it ({@link EngineOps#nativeLayers()}). */
    @Override
    public Optional<NDArray> conv2dValue(NDArray x, NDArray weight, NDArray bias, GraphNode.Conv2d conv) {
        if (!engineOps.nativeLayers()) {
            return Optional.empty();
        }
        NDList out = Conv2d.conv2d(x, weight, bias, shape(conv.stride()), shape(conv.padding()),
                shape(conv.dilation()), 1);
        return Optional.of(own(out.singletonOrThrow()));
    }

    /**
     * Where the engine runs native layers, for stride 1 and dilation 1 with a padding below the
     * kernel size: the input gradient is then itself a convolution.
     */
    @Override
    public boolean conv2dGradientsAreNative(GraphNode.Conv2d conv) {
        return engineOps.nativeLayers() && conv.stride().h() == 1 && conv.stride().w() == 1
                && conv.dilation().h() == 1 && conv.dilation().w() == 1
                && conv.padding().h() < conv.kernel().h() && conv.padding().w() < conv.kernel().w();
    }

    /**
     * The adjoint of a stride-1 convolution as a convolution: {@code dy} padded by
     * {@code k − 1 − p} and convolved with the weight's channels swapped and its kernel rotated by
     * 180° ({@code W'[c, o, i, j] = W[o, c, kh−1−i, kw−1−j]}).
     */
    @Override
    public NDArray conv2dInputGradient(NDArray dy, NDArray weight, GraphNode.Conv2d conv) {
        if (!conv2dGradientsAreNative(conv)) {
            throw new UnsupportedOperationException("no native input gradient for " + conv);
        }
        try (NDArray swapped = weight.transpose(1, 0, 2, 3); NDArray rotated = swapped.flip(2, 3)) {
            Shape padding = new Shape(conv.kernel().h() - 1 - conv.padding().h(),
                    conv.kernel().w() - 1 - conv.padding().w());
            NDList out = Conv2d.conv2d(dy, rotated, null, new Shape(1, 1), padding, new Shape(1, 1), 1);
            return own(out.singletonOrThrow());
        }
    }

    /**
     * The weight gradient of a stride-1 convolution as a convolution with the batch as the channels:
     * {@code x} and {@code dy} with their first two axes swapped ({@code [c, n, h, w]},
     * {@code [o, n, oh, ow]}) convolved with the node's padding give {@code [c, o, kh, kw]}, whose first
     * two axes are swapped back.
     */
    @Override
    public NDArray conv2dWeightGradient(NDArray x, NDArray dy, GraphNode.Conv2d conv) {
        if (!conv2dGradientsAreNative(conv)) {
            throw new UnsupportedOperationException("no native weight gradient for " + conv);
        }
        try (NDArray channels = x.transpose(1, 0, 2, 3); NDArray kernels = dy.transpose(1, 0, 2, 3)) {
            NDList out = Conv2d.conv2d(channels, kernels, null, new Shape(1, 1), shape(conv.padding()),
                    new Shape(1, 1), 1);
            try (NDArray swapped = out.singletonOrThrow()) {
                return own(swapped.transpose(1, 0, 2, 3));
            }
        }
    }

    /** DJL's {@code Pool.maxPool2d} / {@code avgPool2d} (counting the padding) where the engine runs them. */
    @Override
    public Optional<NDArray> pool2dValue(NDArray x, GraphNode.Pool2d pool) {
        if (!engineOps.nativeLayers()) {
            return Optional.empty();
        }
        if (pool.max() && Kernels.tiles(pool, shape(x))) {
            // libtorch's max_pool2d on NCHW is several times slower than the maxima of views
            return Optional.of(tileMaxima(x, pool.kernel()));
        }
        Shape kernel = shape(pool.kernel());
        NDArray out = pool.max()
                ? Pool.maxPool2d(x, kernel, shape(pool.stride()), shape(pool.padding()), false)
                : Pool.avgPool2d(x, kernel, shape(pool.stride()), shape(pool.padding()), false, true);
        return Optional.of(own(out));
    }

    private static Shape shape(GraphNode.Pair pair) {
        return new Shape(pair.h(), pair.w());
    }

    /**
     * Where the engine gathers columns, its gather (the default); elsewhere (TensorFlow, whose gathers
     * are one-hot products costing index length × rows × columns) without an index: the input
     * transposed once to {@code [n, h, w, c]} and zero-padded, its kh·kw strided views
     * {@code [:, ky·dh :: sh, kx·dw :: sw, :]} (each {@code [n, oh, ow, c]}) stacked on a last axis.
     */
    @Override
    public NDArray windows(NDArray x, Kernels.Windows windows) {
        if (engineOps.gathersColumns()) {
            return Kernels.super.windows(x, windows);
        }
        if (tiling(windows)) {
            return tiles(x, windows);
        }
        long[] s = shape(x);
        GraphNode.Pair k = windows.kernel();
        GraphNode.Pair stride = windows.stride();
        GraphNode.Pair d = windows.dilation();
        GraphNode.Pair pad = windows.padding();
        NDArray padded = padSpatial(own(x.transpose(0, 2, 3, 1)), 1, pad.h(), pad.h(), pad.w(), pad.w());
        long oh = windows.outputHeight(s[2]);
        long ow = windows.outputWidth(s[3]);
        NDList views = new NDList(k.h() * k.w());
        for (int ky = 0; ky < k.h(); ky++) {
            for (int kx = 0; kx < k.w(); kx++) {
                long y0 = (long) ky * d.h();
                long x0 = (long) kx * d.w();
                views.add(own(padded.get(":, {}:{}:{}, {}:{}:{}, :", y0, y0 + (oh - 1) * stride.h() + 1, stride.h(),
                        x0, x0 + (ow - 1) * stride.w() + 1, stride.w())));
            }
        }
        return own(own(NDArrays.stack(views, 4)).reshape(s[0] * oh * ow, s[1] * k.h() * k.w()));
    }

    /**
     * Where the engine gathers columns, the default; elsewhere without an index: g seen as
     * {@code [n, oh, ow, c, kh·kw]}, each window entry's slice {@code [n, oh, ow, c]} spread by the
     * stride (zeros between its rows and columns) and placed at its offset in the zero-padded input
     * {@code [n, h + 2ph, w + 2pw, c]} by concatenated zeros, first along the columns for one kernel
     * row, then that row's sum along the rows; the kh sums added, the padding cut off and the result
     * transposed to {@code [n, c, h, w]} once.
     */
    @Override
    public NDArray windowSums(NDArray g, Kernels.Windows windows, long[] inputShape) {
        if (engineOps.gathersColumns()) {
            return Kernels.super.windowSums(g, windows, inputShape);
        }
        if (tiling(windows)) {
            return untiled(g, windows, inputShape);
        }
        GraphNode.Pair k = windows.kernel();
        GraphNode.Pair stride = windows.stride();
        GraphNode.Pair d = windows.dilation();
        GraphNode.Pair pad = windows.padding();
        long hp = inputShape[2] + 2L * pad.h();
        long wp = inputShape[3] + 2L * pad.w();
        long oh = windows.outputHeight(inputShape[2]);
        long ow = windows.outputWidth(inputShape[3]);
        long rows = (oh - 1) * stride.h() + 1;
        long columns = (ow - 1) * stride.w() + 1;
        NDArray entries = own(g.reshape(inputShape[0], oh, ow, inputShape[1], (long) k.h() * k.w()));
        NDArray sum = null;
        for (int ky = 0; ky < k.h(); ky++) {
            NDArray row = null;
            for (int kx = 0; kx < k.w(); kx++) {
                NDArray spread = spread(own(entries.get(":, :, :, :, {}", ky * k.w() + kx)), stride, rows, columns);
                long left = (long) kx * d.w();
                NDArray placed = padSpatial(spread, 1, 0, 0, left, wp - left - columns);
                row = row == null ? placed : own(row.add(placed));
            }
            long top = (long) ky * d.h();
            NDArray placed = padSpatial(row, 1, top, hp - top - rows, 0, 0);
            sum = sum == null ? placed : own(sum.add(placed));
        }
        NDArray inside = own(sum.get(":, {}:{}, {}:{}, :", pad.h(), pad.h() + inputShape[2], pad.w(),
                pad.w() + inputShape[3]));
        return own(inside.transpose(0, 3, 1, 2));
    }

    /** @return whether the windows do not overlap and leave no gaps: stride = kernel, no dilation */
    private static boolean tiling(Kernels.Windows windows) {
        return windows.stride().equals(windows.kernel()) && windows.dilation().equals(GraphNode.Pair.of(1));
    }

    /**
     * {@link #windows} of {@link #tiling} windows as one transpose: the padded input's first
     * {@code oh·kh} rows and {@code ow·kw} columns seen as {@code [n, c, oh, kh, ow, kw]}, transposed
     * to {@code [n, oh, ow, c, kh, kw]}.
     */
    private NDArray tiles(NDArray x, Kernels.Windows windows) {
        long[] s = shape(x);
        GraphNode.Pair k = windows.kernel();
        GraphNode.Pair pad = windows.padding();
        long oh = windows.outputHeight(s[2]);
        long ow = windows.outputWidth(s[3]);
        NDArray padded = padSpatial(x, 2, pad.h(), pad.h(), pad.w(), pad.w());
        long[] p = shape(padded);
        if (p[2] != oh * k.h() || p[3] != ow * k.w()) {
            padded = own(padded.get(":, :, :{}, :{}", oh * k.h(), ow * k.w()));
        }
        NDArray blocks = own(padded.reshape(s[0], s[1], oh, k.h(), ow, k.w()));
        return own(own(blocks.transpose(0, 2, 4, 1, 3, 5)).reshape(s[0] * oh * ow, s[1] * k.h() * k.w()));
    }

    /**
     * {@link #windowSums} of {@link #tiling} windows, the transpose of {@link #tiles}: each input entry
     * lies in at most one window; rows and columns past the last window get zeros.
     */
    private NDArray untiled(NDArray g, Kernels.Windows windows, long[] inputShape) {
        GraphNode.Pair k = windows.kernel();
        GraphNode.Pair pad = windows.padding();
        long n = inputShape[0];
        long c = inputShape[1];
        long hp = inputShape[2] + 2L * pad.h();
        long wp = inputShape[3] + 2L * pad.w();
        long oh = windows.outputHeight(inputShape[2]);
        long ow = windows.outputWidth(inputShape[3]);
        NDArray blocks = own(own(g.reshape(n, oh, ow, c, k.h(), k.w())).transpose(0, 3, 1, 4, 2, 5));
        NDArray covered = own(blocks.reshape(n, c, oh * k.h(), ow * k.w()));
        NDArray padded = padSpatial(covered, 2, 0, hp - oh * k.h(), 0, wp - ow * k.w());
        return pad.h() == 0 && pad.w() == 0 ? padded
                : own(padded.get(":, :, {}:{}, {}:{}", pad.h(), pad.h() + inputShape[2], pad.w(),
                        pad.w() + inputShape[3]));
    }

    /**
     * @param a       {@code [n, oh, ow, c]}
     * @param rows    {@code (oh − 1)·sh + 1}
     * @param columns {@code (ow − 1)·sw + 1}
     * @return {@code [n, rows, columns, c]}: a's rows and columns {@code stride} apart, zeros between
     */
    private NDArray spread(NDArray a, GraphNode.Pair stride, long rows, long columns) {
        if (stride.h() == 1 && stride.w() == 1) {
            return a;
        }
        long[] s = shape(a);
        NDArray cells = own(a.reshape(s[0], s[1], 1, s[2], 1, s[3]));
        if (stride.h() > 1) {
            cells = concat(List.of(cells, zeroBlock(cells, 2, stride.h() - 1)), 2);
        }
        if (stride.w() > 1) {
            cells = concat(List.of(cells, zeroBlock(cells, 4, stride.w() - 1)), 4);
        }
        NDArray grid = own(cells.reshape(s[0], s[1] * stride.h(), s[2] * stride.w(), s[3]));
        return own(grid.get(":, :{}, :{}, :", rows, columns));
    }

    /**
     * @param a    an array whose rows and columns are the axes {@code axis} and {@code axis + 1}
     * @return {@code a} with zero rows above and below and zero columns left and right of the given
     *     counts ({@code a} itself where all are 0)
     */
    private NDArray padSpatial(NDArray a, int axis, long top, long bottom, long left, long right) {
        NDArray padded = a;
        long[][] sides = {{top, bottom}, {left, right}};
        for (int i = 0; i < 2; i++) {
            if (sides[i][0] == 0 && sides[i][1] == 0) {
                continue;
            }
            List<NDArray> parts = new ArrayList<>(3);
            if (sides[i][0] > 0) {
                parts.add(zeroBlock(padded, axis + i, sides[i][0]));
            }
            parts.add(padded);
            if (sides[i][1] > 0) {
                parts.add(zeroBlock(padded, axis + i, sides[i][1]));
            }
            padded = concat(parts, axis + i);
        }
        return padded;
    }

    /**
     * @return zeros shaped like {@code a} except {@code count} along {@code axis}, made once per shape
     *     in these kernels' lifetime and only ever concatenated (copied), never returned
     */
    private NDArray zeroBlock(NDArray a, int axis, long count) {
        long[] s = shape(a);
        s[axis] = count;
        return zeroBlocks.computeIfAbsent(new Shape(s), shape -> manager.zeros(shape, type));
    }

    /** With the engine's column indexing where it has one: one gather, no transposes. */
    @Override
    public NDArray gatherPaddedColumns(NDArray a, int[] index) {
        if (!engineOps.gathersColumns()) {
            return Kernels.super.gatherPaddedColumns(a, index);
        }
        try (NDArray zero = manager.zeros(new Shape(shape(a)[0], 1), type); NDArray padded = a.concat(zero, 1)) {
            return own(engineOps.gatherColumns(manager, padded, index));
        }
    }

    /**
     * Gathers and one sum: of columns where the engine gathers columns
     * ({@link Kernels#scatterPaddedColumnsByGather}), else of rows of the transpose
     * ({@link Kernels#scatterPaddedColumnsByRowTable}).
     */
    @Override
    public NDArray scatterPaddedColumns(NDArray g, int[] index, int c) {
        if (!engineOps.gathersColumns()) {
            return Kernels.scatterPaddedColumnsByRowTable(this, g, index, c);
        }
        return Kernels.scatterPaddedColumnsByGather(this, g, index, c);
    }

    @Override
    public NDArray slicePadRows(NDArray a, long from, long to) {
        long[] s = shape(a);
        long rows = s[0];
        long lo = Math.max(from, 0);
        long hi = Math.min(to, rows);
        List<NDArray> parts = new ArrayList<>(3);
        if (lo > from) {
            parts.add(zeros(Math.min(lo, to) - from, s));
        }
        if (hi > lo) {
            parts.add(own(a.get(new NDIndex("{}:{}", lo, hi))));
        }
        if (to > Math.max(hi, lo) && to > from) {
            long start = Math.max(Math.max(hi, lo), from);
            parts.add(zeros(to - start, s));
        }
        return parts.size() == 1 ? parts.get(0) : concat(parts, 0);
    }

    @Override
    public NDArray sliceColumns(NDArray a, long from, long to) {
        return own(a.get(new NDIndex(":, {}:{}", from, to)));
    }

    private NDArray zeros(long rows, long[] like) {
        long[] s = like.clone();
        s[0] = rows;
        return manager.zeros(new Shape(s), type);
    }

    @Override
    public NDArray concat(List<NDArray> arrays, int axis) {
        return arrays.size() == 1 ? arrays.get(0) : own(NDArrays.concat(new NDList(arrays), axis));
    }

    /** Runs {@code body} with kernels of a sub-manager, closed on return; the results move to this manager. */
    @Override
    public List<NDArray> scopedAll(java.util.function.Function<Kernels<NDArray>, List<NDArray>> body) {
        try (NDManager sub = manager.newSubManager()) {
            List<NDArray> results = body.apply(new DjlKernels(sub, type, uploader, engineOps));
            results.forEach(r -> r.attach(manager));
            return results;
        }
    }

    /** @return {@code a} (a new array made outside these kernels) attached to the call's manager */
    NDArray adopt(NDArray a) {
        return own(a);
    }

    /**
     * Attaches a new result to the call's manager. DJL attaches an operation's result to the manager
     * of its first operand, which for the model's parameters is the model's long-lived manager: without
     * this, every call would leave arrays there until the model is closed.
     */
    private NDArray own(NDArray result) {
        if (result.getManager() != manager) {
            result.attach(manager);
        }
        return result;
    }
}
