package org.influence4j.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.graph.Autodiff.Var;

/**
 * The forward computation of a {@link ModelGraph} and of its loss, as recorded {@link Autodiff}
 * operations on a batch (batch axis first).
 *
 * <p><b>Parameters.</b> One value per entry of {@link ModelGraph#parameterLayout()}. In shared mode
 * they have their own shapes; in per-sample mode each has a leading batch axis {@code [n, ...]}, a
 * copy per sample (the batched Hessian-vector products give the batch repeated for each direction
 * its own copy). Per-sample gradients do not need it: they are assembled from the shared pass's
 * taps ({@link #outputs(Var, int[], int, List, boolean, Map, java.util.function.Predicate)}).
 *
 * <p><b>How the nodes are written.</b> Dense is a matrix product on the last axis; Conv2d is im2col
 * ({@link Kernels#windows}, gather index computed once per graph) followed by a matrix product; max pooling takes each
 * window's maximum, and its gradient flows to the first maximum through a one-hot mask made with
 * the value when a gradient will be taken (padded positions never win), average pooling sums each window and
 * divides by its full size (PyTorch's {@code count_include_pad=True}); Embedding gathers rows; the
 * normalisations are written with sums, square roots and divisions; GELU is
 * {@code x·(1 + erf(x/√2))/2}; Softplus switches to the identity above 20 like PyTorch's. Every
 * piece has an exact adjoint, so second derivatives are exact. Where no gradient flows through a
 * convolution, pool or ReLU (the inputs and parameters are constants: plain outputs and losses, the
 * layers before the first tapped Dense head) the backend's native kernels compute it when it has
 * them ({@link Kernels#conv2dValue}, {@link Kernels#pool2dValue}, {@link Kernels#relu}). A ReLU
 * whose only consumer is a max pool runs after the pool, on a quarter of the values of a 2x2 pool,
 * whether or not a gradient flows. This is exact for values and derivatives: the maximum commutes
 * with ReLU, and where a window's maximum is positive its first maximum is the same before and after
 * the ReLU, so the gradient reaches the same input; where it is not, both orders give the window
 * a zero gradient (PyTorch's ReLU derivative at 0 is 0). Where the backend also computes a convolution's
 * input and weight gradients ({@link Kernels#conv2dGradientsAreNative}: stride 1 on PyTorch), the
 * convolution is native whether or not a gradient flows: a recorded operation whose adjoints are
 * the transposed convolution and the weight gradient (a convolution with the batch as channels),
 * themselves recorded with native adjoints, so HVPs and Gauss-Newton products use them too and no
 * im2col patches are made; a tap makes the patches for the factors ({@link Kernels#windows}).
 *
 * @param <A> the backend's array type
 */
public final class GraphEvaluator<A> {

    /** Above this input, PyTorch's {@code Softplus()} is the identity. */
    private static final double SOFTPLUS_THRESHOLD = 20;

    private final ModelGraph graph;
    private final Map<String, long[]> shapes;
    private final Map<String, int[]> indexCache;
    private final Autodiff<A> ad;

    /**
     * @param graph      the model
     * @param indexCache gather indices of the convolutions and pools, shared by the calls of one
     *                   model (filled here)
     * @param ad         the autodiff of the current call
     */
    public GraphEvaluator(ModelGraph graph, Map<String, int[]> indexCache, Autodiff<A> ad) {
        this.graph = graph;
        this.shapes = graph.shapes();
        this.indexCache = indexCache;
        this.ad = ad;
    }

    /** @return a new thread-safe index cache for one model */
    public static Map<String, int[]> newIndexCache() {
        return new ConcurrentHashMap<>();
    }

    /**
     * The model outputs.
     *
     * @param x         the float features {@code [n, ...inputShape]} (null for an id input)
     * @param ids       the token ids, row-major {@code [n, ...inputShape]} (null for a float input)
     * @param n         the batch size
     * @param params    the parameters (see the class comment)
     * @param perSample whether {@code params} carry a leading batch axis
     * @return the outputs {@code [n, outputDim]}
     */
    public Var<A> outputs(Var<A> x, int[] ids, int n, List<Var<A>> params, boolean perSample) {
        return outputs(x, ids, n, params, perSample, null, name -> false);
    }

    /**
     * The model outputs, with every weight layer tapped (Dense, Conv2d, Embedding; shared
     * parameters only): the layer's pre-activation output in its row form {@code [n·T, out]} is
     * its probe (rows ordered (sample, position): T = 1 for a Dense layer on vectors,
     * the leading positions for Dense on the last axis, the output positions of a Conv2d, the
     * tokens of an Embedding), and {@code taps} receives, by node name in node order, that probe
     * and the layer's input rows {@code [n·T, in]} (the im2col patches of a Conv2d; null for an
     * Embedding, whose inputs are the ids). The gradient with respect to a probe is the layer's
     * output gradient δ per row. An affine normalisation (LayerNorm, BatchNorm) is tapped too: its
     * output, shaped as it is, is the probe, and the normalized input x̂ (the output is
     * {@code x̂·w + b} on the normalized axis) the tap's inputs.
     *
     * @param taps  receives the {@link Tap} of every weight layer {@code tapped} accepts; null for none
     * @param which the names of the weight layers to tap: the backward pass to the probes then stops
     *              at the earliest of them (only the Dense heads, say, for last-layer methods)
     */
    public Var<A> outputs(Var<A> x, int[] ids, int n, List<Var<A>> params, boolean perSample,
                          Map<String, Tap<A>> taps, java.util.function.Predicate<String> which) {
        Map<String, Var<A>> values = new HashMap<>();
        values.put(ModelGraph.INPUT, x);
        Map<String, Var<A>> byName = new HashMap<>();
        var layout = graph.parameterLayout();
        for (int i = 0; i < layout.size(); i++) {
            byName.put(layout.get(i).name(), params.get(i));
        }
        Var<A> out = null;
        List<GraphNode> nodes = graph.nodes();
        boolean reluDeferred = false;
        for (int i = 0; i < nodes.size(); i++) {
            GraphNode node = nodes.get(i);
            List<String> inputNames = ModelGraph.inputsOf(nodes, i);
            List<Var<A>> in = new ArrayList<>(inputNames.size());
            for (String name : inputNames) {
                in.add(values.get(name));
            }
            if (reluBeforeItsMaxPool(nodes, i)) {
                // max(relu(x)) = relu(max(x)), derivatives included (class comment): the ReLU runs on the
                // pooled values, a quarter of them
                values.put(node.name(), in.get(0));
                reluDeferred = true;
                continue;
            }
            long[] inShape = batched(n, shapes.get(inputNames.get(0)));
            Var<A> w = byName.get(node.name() + ".weight");
            Var<A> b = byName.get(node.name() + ".bias");
            out = apply(node, in, inShape, ids, n, w, b, perSample,
                    perSample || !which.test(node.name()) ? null : taps);
            if (reluDeferred) {
                out = relu(out);
                reluDeferred = false;
            }
            values.put(node.name(), out);
        }
        return out;
    }

    /** @return whether node i is a ReLU whose only consumer is the next node, a max pool */
    private static boolean reluBeforeItsMaxPool(List<GraphNode> nodes, int i) {
        if (!(nodes.get(i) instanceof GraphNode.Act a && a.activation() == org.influence4j.api.model.Activation.RELU)
                || i + 1 >= nodes.size() || !(nodes.get(i + 1) instanceof GraphNode.Pool2d p && p.max())) {
            return false;
        }
        String name = nodes.get(i).name();
        for (int j = i + 1; j < nodes.size(); j++) {
            boolean reads = ModelGraph.inputsOf(nodes, j).contains(name);
            if (reads != (j == i + 1)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The tap of one weight layer ({@link #outputs(Var, int[], int, List, boolean, Map)}).
     *
     * @param inputs the layer's input rows {@code [n·T, in]}; null for an Embedding; the normalized
     *               input x̂, shaped like the output, for a LayerNorm or BatchNorm
     * @param probe  the output rows {@code [n·T, out]}, or the output {@code [n, out, oh, ow]} of a
     *               native convolution (T = oh·ow), or a normalisation's output, as recorded, or as a
     *               leaf holding its value where nothing before it is differentiated: {@link #rows}
     *               turns a gradient of a weight layer's probe into rows
     * @param <A>    the backend's array type
     */
    public record Tap<A>(Var<A> inputs, Var<A> probe) {

        /** @return {@code gradient}, shaped like the probe, as rows {@code [n·T, out]} ordered (sample, position) */
        public A rows(Kernels<A> k, A gradient) {
            long[] s = k.shape(gradient);
            if (s.length == 2) {
                return gradient;
            }
            long positions = s[2] * s[3];
            return k.reshape(k.permute(k.reshape(gradient, s[0], s[1], positions), 0, 2, 1), s[0] * positions, s[1]);
        }
    }

    /**
     * @return {@code rows}, recorded in {@code taps} as the layer's probe (as a leaf of the same value
     *     where nothing before it is differentiated, so that the backward pass reaches it), or
     *     {@code rows} when not tapping
     */
    private Var<A> tapped(String name, Var<A> inputs, Var<A> rows, Map<String, Tap<A>> taps) {
        if (taps == null) {
            return rows;
        }
        Var<A> probe = rows.requiresGrad() ? rows : ad.leaf(rows.value());
        taps.put(name, new Tap<>(inputs, probe));
        return probe;
    }

    private Var<A> apply(GraphNode node, List<Var<A>> in, long[] s, int[] ids, int n, Var<A> w, Var<A> b,
                         boolean perSample, Map<String, Tap<A>> taps) {
        Var<A> x = in.get(0);
        if (node instanceof GraphNode.Dense d) {
            return dense(x, s, d, w, b, n, perSample, taps);
        }
        if (node instanceof GraphNode.Conv2d c) {
            return conv2d(x, s, c, w, b, n, perSample, taps);
        }
        if (node instanceof GraphNode.Pool2d p) {
            return pool2d(x, s, p, n);
        }
        if (node instanceof GraphNode.GlobalAvgPool) {
            long hw = s[2] * s[3];
            return ad.reshape(ad.scale(ad.sumTo(ad.reshape(x, n, s[1], hw), n, s[1], 1), 1.0 / hw), n, s[1]);
        }
        if (node instanceof GraphNode.Flatten) {
            return ad.reshape(x, n, size(s) / n);
        }
        if (node instanceof GraphNode.Embedding e) {
            return embedding(ids, s, e, w, n, perSample, taps);
        }
        if (node instanceof GraphNode.LayerNorm l) {
            return layerNorm(x, s, l, w, b, n, perSample, taps);
        }
        if (node instanceof GraphNode.BatchNorm bn) {
            return batchNorm(x, s, bn, w, b, n, perSample, taps);
        }
        if (node instanceof GraphNode.Add) {
            return ad.add(x, in.get(1));
        }
        if (node instanceof GraphNode.Mean m) {
            int axis = m.axis() + 1;
            long[] kept = s.clone();
            kept[axis] = 1;
            long[] out = new long[s.length - 1];
            for (int i = 0, j = 0; i < s.length; i++) {
                if (i != axis) {
                    out[j++] = s[i];
                }
            }
            return ad.reshape(ad.scale(ad.sumTo(x, kept), 1.0 / s[axis]), out);
        }
        if (node instanceof GraphNode.Dropout) {
            return x;
        }
        if (node instanceof GraphNode.Act a) {
            return activation(x, a);
        }
        throw new IllegalStateException("unknown node " + node);
    }

    /** @return ReLU of {@code x}: times its positive mask where a gradient flows, else the native kernel */
    private Var<A> relu(Var<A> x) {
        return x.requiresGrad() ? ad.mul(x, ad.constant(ad.kernels().greaterMask(x.value(), 0)))
                : ad.constant(ad.kernels().relu(x.value()));
    }

    private Var<A> activation(Var<A> x, GraphNode.Act a) {
        Kernels<A> k = ad.kernels();
        switch (a.activation()) {
            case RELU:
                return relu(x);
            case TANH:
                return ad.tanh(x);
            case SIGMOID:
                return ad.sigmoid(x);
            case IDENTITY:
                return x;
            case SOFTPLUS: {
                A linear = k.greaterMask(x.value(), SOFTPLUS_THRESHOLD);
                A smooth = k.addScalar(k.scale(linear, -1), 1);
                return ad.add(ad.mul(ad.softplus(x), ad.constant(smooth)), ad.mul(x, ad.constant(linear)));
            }
            case GELU:
                return ad.scale(ad.mul(x, ad.addScalar(ad.erf(ad.scale(x, 1 / Math.sqrt(2))), 1)), 0.5);
            default:
                throw new IllegalStateException("unknown activation " + a.activation());
        }
    }

    private Var<A> dense(Var<A> x, long[] s, GraphNode.Dense d, Var<A> w, Var<A> b, int n, boolean perSample,
                         Map<String, Tap<A>> taps) {
        long in = d.inFeatures();
        long out = d.outFeatures();
        long rows = size(s) / in / n;
        long[] outShape = s.clone();
        outShape[s.length - 1] = out;
        Var<A> y;
        if (perSample) {
            y = ad.matmul(ad.reshape(x, n, rows, in), ad.permute(w, 0, 2, 1));
            if (b != null) {
                y = ad.add(y, ad.expand(ad.reshape(b, n, 1, out), n, rows, out));
            }
        } else {
            Var<A> inputs = ad.reshape(x, n * rows, in);
            y = ad.matmul(inputs, ad.permute(w, 1, 0));
            if (b != null) {
                y = ad.add(y, ad.expand(ad.reshape(b, 1, out), n * rows, out));
            }
            y = tapped(d.name(), inputs, y, taps);
        }
        return ad.reshape(y, outShape);
    }

    private Var<A> conv2d(Var<A> x, long[] s, GraphNode.Conv2d c, Var<A> w, Var<A> b, int n, boolean perSample,
                          Map<String, Tap<A>> taps) {
        if (!perSample && taps == null && !x.requiresGrad() && !w.requiresGrad() && (b == null || !b.requiresGrad())) {
            java.util.Optional<A> value = ad.kernels().conv2dValue(x.value(), w.value(), b == null ? null : b.value(),
                    c);
            if (value.isPresent()) {
                return ad.constant(value.get());
            }
        }
        long[] os = batched(n, shapes.get(c.name()));
        long positions = os[2] * os[3];
        long patch = (long) c.inChannels() * c.kernel().h() * c.kernel().w();
        Kernels.Windows windows = new Kernels.Windows(c.kernel(), c.stride(), c.padding(), c.dilation(),
                indexCache.computeIfAbsent(c.name(), key -> patchIndex(s, c.kernel(), c.stride(), c.padding(),
                        c.dilation(), c.inChannels())));
        Kernels<A> k = ad.kernels();
        if (!perSample && k.conv2dGradientsAreNative(c)) {
            // a constant bias is added by the native convolution itself
            boolean fused = b != null && !b.requiresGrad();
            Var<A> y = nativeConv(x, w, fused ? b.value() : null, c);
            if (b != null && !fused) {
                y = ad.add(y, ad.expand(ad.reshape(b, 1, c.outChannels(), 1, 1), os));
            }
            if (taps == null) {
                return y;
            }
            return tapped(c.name(), ad.constant(k.windows(x.value(), windows)), y, taps);
        }
        Var<A> patches = ad.reshape(ad.windows(x, windows), n, positions, patch);
        long o = c.outChannels();
        Var<A> y;
        if (perSample) {
            y = ad.matmul(patches, ad.permute(ad.reshape(w, n, o, patch), 0, 2, 1));
            if (b != null) {
                y = ad.add(y, ad.expand(ad.reshape(b, n, 1, o), n, positions, o));
            }
        } else {
            Var<A> inputs = ad.reshape(patches, n * positions, patch);
            y = ad.matmul(inputs, ad.permute(ad.reshape(w, o, patch), 1, 0));
            if (b != null) {
                y = ad.add(y, ad.expand(ad.reshape(b, 1, o), n * positions, o));
            }
            y = tapped(c.name(), inputs, y, taps);
        }
        return ad.reshape(ad.permute(ad.reshape(y, n, positions, o), 0, 2, 1), os);
    }

    /**
     * A native convolution ({@link Kernels#conv2dValue}; {@code bias} a constant or null) as a
     * recorded operation of {@code x [n, c, h, w]} and the weight {@code [o, c, kh, kw]}: the input
     * adjoint is the native transposed convolution ({@link #nativeConvTranspose}), the weight adjoint
     * the native weight gradient ({@link #nativeWeightGradient}), both recorded, so HVPs and
     * Gauss-Newton products run through libtorch's convolutions too.
     */
    private Var<A> nativeConv(Var<A> x, Var<A> w, A bias, GraphNode.Conv2d c) {
        A value = ad.kernels().conv2dValue(x.value(), w.value(), bias, c).orElseThrow();
        return ad.custom(value, List.of(x, w), g -> java.util.Arrays.asList(
                x.requiresGrad() ? nativeConvTranspose(g, w, c) : null,
                w.requiresGrad() ? nativeWeightGradient(x, g, c) : null),
                t -> bilinearTangent(t, x, w, (input, weight) -> ad.kernels().conv2dValue(input, weight, null, c)
                        .orElseThrow()));
    }

    /**
     * @param t the tangents of the two inputs of a bilinear operation {@code f(x, w)} (null where zero)
     * @return {@code f(ẋ, w) + f(x, ẇ)}
     */
    private Var<A> bilinearTangent(List<Var<A>> t, Var<A> x, Var<A> w, java.util.function.BinaryOperator<A> f) {
        Kernels<A> k = ad.kernels();
        A sum = null;
        if (t.get(0) != null) {
            sum = f.apply(t.get(0).value(), w.value());
        }
        if (t.get(1) != null) {
            A term = f.apply(x.value(), t.get(1).value());
            sum = sum == null ? term : k.add(sum, term);
        }
        return ad.constant(sum);
    }

    /**
     * The input adjoint of {@link #nativeConv}: {@code g [n, o, oh, ow]} to {@code [n, c, h, w]}
     * ({@link Kernels#conv2dInputGradient}), recorded: it is linear in g (adjoint: the convolution)
     * and bilinear in the weight (adjoint: the weight gradient of the cotangent as the input).
     */
    private Var<A> nativeConvTranspose(Var<A> g, Var<A> w, GraphNode.Conv2d c) {
        A value = ad.kernels().conv2dInputGradient(g.value(), w.value(), c);
        return ad.custom(value, List.of(g, w), h -> java.util.Arrays.asList(
                g.requiresGrad() ? nativeConv(h, w, null, c) : null,
                w.requiresGrad() ? nativeWeightGradient(h, g, c) : null),
                t -> bilinearTangent(t, g, w, (output, weight) -> ad.kernels().conv2dInputGradient(output, weight, c)));
    }

    /**
     * The weight adjoint of {@link #nativeConv}: {@code Σ_{i,t} g[i, :, t] ⊗ patch_t(x_i)} shaped like
     * the weight {@code [o, c, kh, kw]}, the gradient of {@code ⟨g, conv(x, W)⟩} in W
     * ({@link Kernels#conv2dWeightGradient}), recorded: bilinear in {@code x [n, c, h, w]} (adjoint of a
     * cotangent H: the transposed convolution of g with H) and {@code g [n, o, oh, ow]} (adjoint: the
     * convolution of x with H).
     */
    private Var<A> nativeWeightGradient(Var<A> x, Var<A> g, GraphNode.Conv2d c) {
        A value = ad.kernels().conv2dWeightGradient(x.value(), g.value(), c);
        return ad.custom(value, List.of(x, g), h -> java.util.Arrays.asList(
                x.requiresGrad() ? nativeConvTranspose(g, h, c) : null,
                g.requiresGrad() ? nativeConv(x, h, null, c) : null),
                t -> bilinearTangent(t, x, g, (input, output) -> ad.kernels().conv2dWeightGradient(input, output, c)));
    }

    private Var<A> pool2d(Var<A> x, long[] s, GraphNode.Pool2d p, int n) {
        if (!x.requiresGrad()) {
            java.util.Optional<A> value = ad.kernels().pool2dValue(x.value(), p);
            if (value.isPresent()) {
                return ad.constant(value.get());
            }
        }
        long[] os = batched(n, shapes.get(p.name()));
        if (p.max() && Kernels.tiles(p, s)) {
            java.util.Optional<Kernels.MaximaAndMask<A>> tiled = ad.kernels().tiledMaxPool(x.value(), p.kernel());
            if (tiled.isPresent()) {
                return tiledMaxPool(x, s, os, p.kernel(), tiled.get());
            }
        }
        long positions = os[2] * os[3];
        long window = (long) p.kernel().h() * p.kernel().w();
        long[] single = {n, 1, s[2], s[3]};
        int[] index = indexCache.computeIfAbsent(p.name(), key -> patchIndex(single, p.kernel(), p.stride(),
                p.padding(), GraphNode.Pair.of(1), 1));
        Kernels.Windows windows = new Kernels.Windows(p.kernel(), p.stride(), p.padding(), GraphNode.Pair.of(1), index);
        Var<A> patches = ad.reshape(ad.windows(ad.reshape(x, (long) n * s[1], 1, s[2], s[3]), windows), n, s[1],
                positions, window);
        long[] kept = {n, s[1], positions, 1};
        Var<A> pooled;
        if (p.max()) {
            Kernels<A> k = ad.kernels();
            double[] penalty = new double[index.length];
            int padRow = (int) (s[2] * s[3]);
            boolean padded = false;
            for (int j = 0; j < index.length; j++) {
                penalty[j] = index[j] == padRow ? Double.NEGATIVE_INFINITY : 0;
                padded |= index[j] == padRow;
            }
            long[] full = ad.shape(patches);
            A scores = padded
                    ? k.add(patches.value(), k.expand(k.constant(penalty, 1, 1, positions, window), full))
                    : patches.value();
            pooled = ad.firstMaxLast(patches, scores);
        } else {
            pooled = ad.scale(ad.sumTo(patches, kept), 1.0 / window);
        }
        return ad.reshape(pooled, os);
    }

    /**
     * A tiling max pool from {@link Kernels#tiledMaxPool}: the gradient is the output gradient
     * repeated over each window (a column gather: input position → its window) times the
     * first-maximum mask, recorded, so second derivatives flow; the tangent is the transposed map,
     * the masked input tangent summed over each window ({@link #tileSums}).
     */
    private Var<A> tiledMaxPool(Var<A> x, long[] s, long[] os, GraphNode.Pair kernel, Kernels.MaximaAndMask<A> tiled) {
        String key = "tiles " + s[2] + "x" + s[3] + " " + kernel;
        int[] window = indexCache.computeIfAbsent(key, unused -> {
            int h = (int) s[2];
            int w = (int) s[3];
            int[] index = new int[h * w];
            for (int i = 0; i < h * w; i++) {
                index[i] = (i / w / kernel.h()) * (int) os[3] + (i % w) / kernel.w();
            }
            return index;
        });
        Var<A> mask = ad.constant(ad.kernels().reshape(tiled.mask(), s[0] * s[1], s[2] * s[3]));
        return ad.linear(tiled.maxima(), x, g -> ad.reshape(ad.mul(repeatOverTiles(g, s, os, window), mask), s),
                t -> tileSums(ad.reshape(ad.mul(ad.reshape(t, s[0] * s[1], s[2] * s[3]), mask), s), s, os, kernel,
                        window));
    }

    /** @return {@code g [n, c, oh, ow]} repeated over each tile, {@code [n·c, h·w]} (recorded) */
    private Var<A> repeatOverTiles(Var<A> g, long[] s, long[] os, int[] window) {
        return ad.gatherPaddedColumns(ad.reshape(g, s[0] * s[1], os[2] * os[3]), window);
    }

    /**
     * @return the sums of {@code v [n, c, h, w]} over the tiles of {@code kernel}, {@code [n, c, oh, ow]}
     *     ({@link Kernels#tileSums}), recorded: the adjoint repeats the output gradient over each tile
     */
    private Var<A> tileSums(Var<A> v, long[] s, long[] os, GraphNode.Pair kernel, int[] window) {
        return ad.linear(ad.kernels().tileSums(v.value(), kernel), v,
                g -> ad.reshape(repeatOverTiles(g, s, os, window), s),
                t -> tileSums(t, s, os, kernel, window));
    }

    private Var<A> embedding(int[] ids, long[] s, GraphNode.Embedding e, Var<A> w, int n, boolean perSample,
                             Map<String, Tap<A>> taps) {
        long dim = e.embeddingDim();
        long[] outShape = java.util.Arrays.copyOf(s, s.length + 1);
        outShape[s.length] = dim;
        if (!perSample) {
            return ad.reshape(tapped(e.name(), null, ad.gatherRows(w, ids), taps), outShape);
        }
        return ad.reshape(ad.gatherRows(ad.reshape(w, (long) n * e.numEmbeddings(), dim),
                perSampleIds(ids, n, e.numEmbeddings())), outShape);
    }

    /**
     * @param ids        the batch's {@code n·T} token ids, sample-major
     * @param vocabulary V
     * @return the ids as rows of the n tables stacked {@code [n·V, d]}: sample i's ids plus {@code i·V}
     */
    static int[] perSampleIds(int[] ids, int n, int vocabulary) {
        int perSample = ids.length / n;
        int[] shifted = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            shifted[i] = ids[i] + (i / perSample) * vocabulary;
        }
        return shifted;
    }

    private Var<A> layerNorm(Var<A> x, long[] s, GraphNode.LayerNorm l, Var<A> w, Var<A> b, int n,
                             boolean perSample, Map<String, Tap<A>> taps) {
        long d = l.normalizedShape();
        long[] kept = s.clone();
        kept[s.length - 1] = 1;
        Var<A> centred = ad.sub(x, ad.expand(ad.scale(ad.sumTo(x, kept), 1.0 / d), s));
        Var<A> variance = ad.scale(ad.sumTo(ad.mul(centred, centred), kept), 1.0 / d);
        Var<A> y = ad.div(centred, ad.expand(ad.sqrt(ad.addScalar(variance, l.eps())), s));
        if (w == null) {
            return y;
        }
        long[] affine = new long[s.length];
        java.util.Arrays.fill(affine, 1);
        affine[s.length - 1] = d;
        if (perSample) {
            affine[0] = n;
        }
        return tapped(l.name(), y, ad.add(ad.mul(y, ad.expand(ad.reshape(w, affine), s)),
                ad.expand(ad.reshape(b, affine), s)), taps);
    }

    private Var<A> batchNorm(Var<A> x, long[] s, GraphNode.BatchNorm bn, Var<A> w, Var<A> b, int n,
                             boolean perSample, Map<String, Tap<A>> taps) {
        int c = bn.numFeatures();
        double[] mean = graph.buffer(bn.name() + ".running_mean");
        double[] variance = graph.buffer(bn.name() + ".running_var");
        double[] inv = new double[c];
        double[] shift = new double[c];
        for (int i = 0; i < c; i++) {
            inv[i] = 1 / Math.sqrt(variance[i] + bn.eps());
            shift[i] = -mean[i] * inv[i];
        }
        long[] channel = new long[s.length];
        java.util.Arrays.fill(channel, 1);
        channel[1] = c;
        Var<A> scale;
        Var<A> offset;
        if (w == null) {
            scale = ad.constant(inv, channel);
            offset = ad.constant(shift, channel);
        } else {
            long[] param = channel.clone();
            if (perSample) {
                param[0] = n;
            }
            Var<A> wv = ad.reshape(w, param);
            Var<A> invv = ad.expand(ad.constant(inv, channel), param);
            Var<A> shiftv = ad.expand(ad.constant(shift, channel), param);
            scale = ad.mul(wv, invv);
            offset = ad.add(ad.mul(wv, shiftv), ad.reshape(b, param));
        }
        Var<A> out = ad.add(ad.mul(x, ad.expand(scale, s)), ad.expand(offset, s));
        if (w == null || taps == null) {
            return out;
        }
        // the tap's inputs: the normalized x̂ = x·inv + shift, of which the output is x̂·w + b
        Kernels<A> k = ad.kernels();
        A normalized = k.add(k.mul(x.value(), k.expand(k.constant(inv, channel), s)),
                k.expand(k.constant(shift, channel), s));
        return tapped(bn.name(), ad.constant(normalized), out, taps);
    }

    // ---------------------------------------------------------------------------------------------
    // losses

    /**
     * Per-sample losses ({@link Loss}) of outputs {@code z} {@code [n, o]}.
     *
     * @param targets the targets as the loss reads them: one-hot rows for softmax cross-entropy,
     *                otherwise the labels, row-major {@code [n, o]}
     * @return {@code [n]}
     */
    public Var<A> perSampleLosses(Var<A> z, double[] targets) {
        long[] s = ad.shape(z);
        long n = s[0];
        long o = s[1];
        Var<A> y = ad.constant(targets, n, o);
        Var<A> loss;
        switch (graph.loss()) {
            case SOFTMAX_CROSS_ENTROPY: {
                Kernels<A> k = ad.kernels();
                Var<A> shifted = ad.sub(z, ad.constant(k.expand(k.maxLast(z.value()), n, o)));
                Var<A> logSum = ad.log(ad.sumTo(ad.exp(shifted), n, 1));
                loss = ad.sub(logSum, ad.sumTo(ad.mul(shifted, y), n, 1));
                break;
            }
            case MSE: {
                Var<A> r = ad.sub(z, y);
                loss = ad.scale(ad.sumTo(ad.mul(r, r), n, 1), 1.0 / o);
                break;
            }
            case BINARY_LOGISTIC:
                loss = ad.sub(ad.softplus(z), ad.mul(y, z));
                break;
            default:
                throw new IllegalStateException("unknown loss " + graph.loss());
        }
        return ad.reshape(loss, n);
    }

    /**
     * The Hessian of each per-sample loss with respect to its outputs applied to {@code u}:
     * {@code (diag(p) − p pᵀ) u} for softmax cross-entropy, {@code (2/o) u} for MSE and
     * {@code σ(z)(1 − σ(z)) u} for the binary logistic loss, row by row.
     *
     * @param z outputs {@code [n, o]}
     * @param u directions {@code [n, o]}
     * @return {@code [n, o]}, not recorded
     */
    public A lossCurvatureTimes(A z, A u) {
        Kernels<A> k = ad.kernels();
        long[] s = k.shape(z);
        switch (graph.loss()) {
            case SOFTMAX_CROSS_ENTROPY: {
                A p = softmax(k, z);
                A pu = k.sumTo(k.mul(p, u), s[0], 1);
                return k.sub(k.mul(p, u), k.mul(p, k.expand(pu, s)));
            }
            case MSE:
                return k.scale(u, 2.0 / s[1]);
            case BINARY_LOGISTIC: {
                A sig = k.sigmoid(z);
                return k.mul(k.sub(sig, k.mul(sig, sig)), u);
            }
            default:
                throw new IllegalStateException("unknown loss " + graph.loss());
        }
    }

    /**
     * Columns of a square root of each per-sample loss curvature: o arrays {@code U_j [n, o]} with
     * {@code Σ_j U_j[i] U_j[i]ᵀ = H_ℓ,i}, the Hessian of sample i's loss with respect to its outputs
     * ({@link #lossCurvatureTimes}). For softmax cross-entropy {@code U_j[i] = √p_ij (e_j − p_i)}
     * (then {@code Σ_j p_ij (e_j − p_i)(e_j − p_i)ᵀ = diag(p_i) − p_i p_iᵀ}, since Σ_j p_ij = 1); for
     * MSE {@code √(2/o) e_j}; for the binary logistic loss {@code √(σ_ij(1 − σ_ij)) e_j}.
     *
     * @param z outputs {@code [n, o]}
     * @return the o columns, not recorded
     */
    public List<A> lossCurvatureRoots(A z) {
        Kernels<A> k = ad.kernels();
        long[] s = k.shape(z);
        int o = Math.toIntExact(s[1]);
        A diagonalRoot = switch (graph.loss()) {
            case SOFTMAX_CROSS_ENTROPY -> null;
            case MSE -> k.constant(filled(o, Math.sqrt(2.0 / o)), 1, o);
            case BINARY_LOGISTIC -> {
                A sig = k.sigmoid(z);
                yield k.sqrt(k.sub(sig, k.mul(sig, sig)));
            }
        };
        A p = diagonalRoot == null ? softmax(k, z) : null;
        A rootP = p == null ? null : k.sqrt(p);
        List<A> columns = new ArrayList<>(o);
        for (int j = 0; j < o; j++) {
            double[] e = new double[o];
            e[j] = 1;
            A unit = k.expand(k.constant(e, 1, o), s);
            if (p == null) {
                columns.add(k.mul(k.expand(diagonalRoot, s), unit));
            } else {
                A rootPj = k.expand(k.sumTo(k.mul(rootP, unit), s[0], 1), s);
                columns.add(k.mul(rootPj, k.sub(unit, p)));
            }
        }
        return columns;
    }

    /** @return the row-wise softmax of {@code z [n, o]} */
    static <A> A softmax(Kernels<A> k, A z) {
        long[] s = k.shape(z);
        A e = k.exp(k.sub(z, k.expand(k.maxLast(z), s)));
        return k.div(e, k.expand(k.sumTo(e, s[0], 1), s));
    }

    private static double[] filled(int length, double value) {
        double[] out = new double[length];
        java.util.Arrays.fill(out, value);
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // index helpers

    /**
     * The im2col index of a 2-D window operation on {@code [*, C, H, W]}: for every output position
     * (row-major) and every (channel, kernel row, kernel column), the flat input position
     * {@code c·H·W + h·W + w}, or {@code C·H·W} (a zero row) where the window lies in the padding.
     */
    static int[] patchIndex(long[] s, GraphNode.Pair kernel, GraphNode.Pair stride, GraphNode.Pair padding,
                            GraphNode.Pair dilation, int channels) {
        int h = (int) s[2];
        int wd = (int) s[3];
        int oh = (h + 2 * padding.h() - dilation.h() * (kernel.h() - 1) - 1) / stride.h() + 1;
        int ow = (wd + 2 * padding.w() - dilation.w() * (kernel.w() - 1) - 1) / stride.w() + 1;
        int pad = channels * h * wd;
        int[] index = new int[Math.multiplyExact(oh * ow, channels * kernel.h() * kernel.w())];
        int j = 0;
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                for (int c = 0; c < channels; c++) {
                    for (int ky = 0; ky < kernel.h(); ky++) {
                        for (int kx = 0; kx < kernel.w(); kx++) {
                            int iy = y * stride.h() - padding.h() + ky * dilation.h();
                            int ix = x * stride.w() - padding.w() + kx * dilation.w();
                            index[j++] = iy < 0 || iy >= h || ix < 0 || ix >= wd ? pad : c * h * wd + iy * wd + ix;
                        }
                    }
                }
            }
        }
        return index;
    }

    private static long[] batched(int n, long[] perSample) {
        long[] s = new long[perSample.length + 1];
        s[0] = n;
        System.arraycopy(perSample, 0, s, 1, perSample.length);
        return s;
    }

    static long size(long[] s) {
        long p = 1;
        for (long d : s) {
            p *= d;
        }
        return p;
    }
}
