package org.influence4j.api.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.influence4j.api.DType;

/**
 * A layer graph (model description format 2): a typed input, named nodes in PyTorch module
 * registration order, a loss and a dtype, plus the values of the buffers (batch-norm running
 * statistics), which are constants of the function. Its JSON form is read and written by
 * {@link ModelGraphJson}; {@link ModelSpec#of(ModelGraph)} wraps it for the backends.
 *
 * <p><b>Evaluation.</b> Each node reads the outputs of earlier nodes (or the input); the last node
 * is the output, of per-sample shape {@code [outputDim]}. Shapes are inferred and checked when the
 * graph is built: a mismatch names the node and both shapes.
 *
 * <p><b>Parameter layout.</b> θ is flat in {@code named_parameters()} order: nodes in list order,
 * each contributing {@code <name>.weight} then {@code <name>.bias} (row-major), so a PyTorch
 * {@code state_dict} saved as safetensors loads by name.
 *
 * <p><b>Input.</b> Features are float ({@code [C, H, W]} images, {@code [d]} rows) or int64 token
 * ids ({@code [T]}), which only {@code embedding} nodes may read. A batch stores a sample as its
 * {@link #inputSize()} values in row-major order.
 *
 * @param inputShape per-sample input shape (batch axis excluded)
 * @param intInput   true when the input holds int64 ids
 * @param nodes      the nodes in order
 * @param loss       the per-sample loss on the output
 * @param dtype      the precision of the model
 * @param buffers    buffer values by name; missing batch-norm buffers take PyTorch's initial values
 *                   (mean 0, variance 1)
 */
public record ModelGraph(long[] inputShape, boolean intInput, List<GraphNode> nodes, Loss loss, DType dtype,
                         Map<String, double[]> buffers) {

    /** The name nodes use to read the model input. */
    public static final String INPUT = "input";

    public ModelGraph {
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("input.shape: must list at least one per-sample dimension");
        }
        for (long d : inputShape) {
            if (d <= 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("input.shape: dimensions must be positive ints, got "
                        + Arrays.toString(inputShape));
            }
        }
        inputShape = inputShape.clone();
        if (nodes == null || nodes.isEmpty()) {
            throw new IllegalArgumentException("nodes: a model needs at least one node");
        }
        if (loss == null || dtype == null) {
            throw new IllegalArgumentException("loss and dtype must not be null");
        }
        nodes = List.copyOf(nodes);
        Map<String, long[]> shapes = inferShapes(inputShape, intInput, nodes);
        checkSizes(nodes, shapes);
        long[] out = shapes.get(nodes.get(nodes.size() - 1).name());
        if (out.length != 1) {
            throw new IllegalArgumentException("nodes: the last node '" + nodes.get(nodes.size() - 1).name()
                    + "' outputs " + Arrays.toString(out) + " per sample; the output must be a vector [outputs]"
                    + " (add a flatten, mean or global_avg_pool node)");
        }
        checkLossWidth(loss, (int) out[0]);
        buffers = completeBuffers(nodes, buffers == null ? Map.of() : buffers);
    }

    /**
     * Range checks of the parameter sizes a graph implies, so that nothing is truncated later: every
     * parameter tensor and the parameter count fit in an {@code int} (per-sample sizes are checked by
     * {@link #inferShapes}).
     */
    private static void checkSizes(List<GraphNode> nodes, Map<String, long[]> shapes) {
        long p = 0;
        for (GraphNode node : nodes) {
            for (Map.Entry<String, long[]> e : parameterShapes(node).entrySet()) {
                long n = 1;
                for (long d : e.getValue()) {
                    n = d > 0 && n > Integer.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
                }
                p = n > Integer.MAX_VALUE ? Long.MAX_VALUE : p + n;
                if (p > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("node '" + node.name() + "': " + node.name() + "." + e.getKey()
                            + " " + Arrays.toString(e.getValue()) + " brings the model to more than 2^31 - 1"
                            + " parameters (the largest flat parameter vector)");
                }
            }
        }
    }

    /** The checks a loss makes of the output width (shared with format-1 specs). */
    static void checkLossWidth(Loss loss, int width) {
        if (loss == Loss.BINARY_LOGISTIC && width != 1) {
            throw new IllegalArgumentException("loss: binary_logistic needs an output width of 1, the layers end at "
                    + width);
        }
        if (loss == Loss.SOFTMAX_CROSS_ENTROPY && width < 2) {
            throw new IllegalArgumentException("loss: softmax_cross_entropy needs at least 2 outputs, got " + width);
        }
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    /** @return the number of values per sample, the product of {@link #inputShape()} */
    public int inputSize() {
        long n = 1;
        for (long d : inputShape) {
            n = Math.multiplyExact(n, d);
        }
        return Math.toIntExact(n);
    }

    /** @return the per-sample output shape of every node (and of {@link #INPUT}), in order (a fresh copy) */
    public Map<String, long[]> shapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        inferredShapes().forEach((name, shape) -> out.put(name, shape.clone()));
        return out;
    }

    /** @return the width of the output */
    public int outputDim() {
        return (int) inferredShapes().get(nodes.get(nodes.size() - 1).name())[0];
    }

    /**
     * The shapes of each graph, inferred once: models ask for them on every call, and inferring them
     * builds the error messages of every check.
     */
    private static final Map<ModelGraph, Map<String, long[]>> SHAPES =
            Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private Map<String, long[]> inferredShapes() {
        return SHAPES.computeIfAbsent(this, g -> Collections.unmodifiableMap(inferShapes(g.inputShape, g.intInput,
                g.nodes)));
    }

    /** @return the named parameter tensors in flat-vector order ({@code layerIndex} is the node index) */
    public List<ParameterInfo> parameterLayout() {
        List<ParameterInfo> out = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < nodes.size(); i++) {
            for (Map.Entry<String, long[]> e : parameterShapes(nodes.get(i)).entrySet()) {
                ParameterInfo info = new ParameterInfo(nodes.get(i).name() + "." + e.getKey(), e.getValue(), offset, i);
                offset = Math.addExact(offset, info.size());
                out.add(info);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** @return p, the length of θ */
    public int numParameters() {
        List<ParameterInfo> layout = parameterLayout();
        if (layout.isEmpty()) {
            return 0;
        }
        ParameterInfo last = layout.get(layout.size() - 1);
        return last.offset() + last.size();
    }

    /** @return the parameter tensors of one node by suffix ({@code weight}, {@code bias}), in order */
    public static Map<String, long[]> parameterShapes(GraphNode node) {
        Map<String, long[]> m = new LinkedHashMap<>();
        if (node instanceof GraphNode.Dense d) {
            m.put("weight", new long[] {d.outFeatures(), d.inFeatures()});
            if (d.bias()) {
                m.put("bias", new long[] {d.outFeatures()});
            }
        } else if (node instanceof GraphNode.Conv2d c) {
            m.put("weight", new long[] {c.outChannels(), c.inChannels(), c.kernel().h(), c.kernel().w()});
            if (c.bias()) {
                m.put("bias", new long[] {c.outChannels()});
            }
        } else if (node instanceof GraphNode.Embedding e) {
            m.put("weight", new long[] {e.numEmbeddings(), e.embeddingDim()});
        } else if (node instanceof GraphNode.LayerNorm l && l.affine()) {
            m.put("weight", new long[] {l.normalizedShape()});
            m.put("bias", new long[] {l.normalizedShape()});
        } else if (node instanceof GraphNode.BatchNorm b && b.affine()) {
            m.put("weight", new long[] {b.numFeatures()});
            m.put("bias", new long[] {b.numFeatures()});
        }
        return m;
    }

    /** @return the buffer names of the graph with their lengths, in order */
    public static Map<String, Integer> bufferSizes(List<GraphNode> nodes) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (GraphNode node : nodes) {
            if (node instanceof GraphNode.BatchNorm b) {
                m.put(b.name() + ".running_mean", b.numFeatures());
                m.put(b.name() + ".running_var", b.numFeatures());
            }
        }
        return m;
    }

    @Override
    public Map<String, double[]> buffers() {
        Map<String, double[]> copy = new LinkedHashMap<>();
        buffers.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** @return the values of one buffer (a copy) */
    public double[] buffer(String name) {
        double[] b = buffers.get(name);
        if (b == null) {
            throw new IllegalArgumentException("buffer '" + name + "' is not a buffer of this graph; buffers: "
                    + buffers.keySet());
        }
        return b.clone();
    }

    /**
     * @return the same graph with these buffer values (e.g. from a {@code state_dict}); names must be
     *     buffers of the graph, lengths must match, values must be finite and running variances ≥ 0
     */
    public ModelGraph withBuffers(Map<String, double[]> values) {
        Map<String, double[]> merged = new LinkedHashMap<>(buffers);
        merged.putAll(values);
        return new ModelGraph(inputShape, intInput, nodes, loss, dtype, merged);
    }

    /** @return the same graph in another precision */
    public ModelGraph withDType(DType newDType) {
        return new ModelGraph(inputShape, intInput, nodes, loss, newDType, buffers);
    }

    /**
     * PyTorch's default initialisation, from a seeded generator (the same numbers on every backend):
     * Linear and Conv2d weights and biases uniform in {@code [-1/√fan_in, 1/√fan_in]}, Embedding
     * weights standard normal, norm weights 1 and biases 0.
     */
    public double[] initialParameters(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] theta = new double[numParameters()];
        for (ParameterInfo info : parameterLayout()) {
            GraphNode node = nodes.get(info.layerIndex());
            boolean weight = info.name().endsWith(".weight");
            for (int k = 0; k < info.size(); k++) {
                int at = info.offset() + k;
                if (node instanceof GraphNode.Dense d) {
                    double bound = 1.0 / Math.sqrt(d.inFeatures());
                    theta[at] = random.nextDouble(-bound, bound);
                } else if (node instanceof GraphNode.Conv2d c) {
                    double bound = 1.0 / Math.sqrt((double) c.inChannels() * c.kernel().h() * c.kernel().w());
                    theta[at] = random.nextDouble(-bound, bound);
                } else if (node instanceof GraphNode.Embedding) {
                    theta[at] = random.nextGaussian();
                } else {
                    theta[at] = weight ? 1.0 : 0.0;
                }
            }
        }
        return theta;
    }

    /**
     * @return the names of the Dense nodes with a bias applied to per-sample vectors (input
     *     {@code [in]}), in node order: the layers whose per-sample gradients factor as
     *     {@code δ ⊗ a} (weight) and {@code δ} (bias), which TracInCPFast and the layer factors use
     */
    public List<String> factorLayers() {
        Map<String, long[]> shapes = shapes();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            GraphNode node = nodes.get(i);
            if (node instanceof GraphNode.Dense d && d.bias() && shapes.get(inputsOf(nodes, i).get(0)).length == 1) {
                out.add(node.name());
            }
        }
        return out;
    }

    /**
     * @return the index in {@link #nodes()} of the node called {@code name}
     * @throws IllegalArgumentException naming {@code name} if no node has it
     */
    public int nodeIndex(String name) {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("name: no node is called '" + name + "'");
    }

    /**
     * @return the names node {@code i} of {@code nodes} reads: its {@code inputs}, or the previous
     *     node's name ({@link #INPUT} for the first node) when it lists none
     */
    public static List<String> inputsOf(List<GraphNode> nodes, int i) {
        GraphNode node = nodes.get(i);
        if (!node.inputs().isEmpty()) {
            return node.inputs();
        }
        return List.of(i == 0 ? INPUT : nodes.get(i - 1).name());
    }

    /** @return the smallest vocabulary of the embeddings reading the input (ids must be below it) */
    public int vocabularyLimit() {
        int limit = Integer.MAX_VALUE;
        for (GraphNode node : nodes) {
            if (node instanceof GraphNode.Embedding e) {
                limit = Math.min(limit, e.numEmbeddings());
            }
        }
        return limit;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ModelGraph g)) {
            return false;
        }
        if (!Arrays.equals(inputShape, g.inputShape) || intInput != g.intInput || !nodes.equals(g.nodes)
                || loss != g.loss || dtype != g.dtype || !buffers.keySet().equals(g.buffers.keySet())) {
            return false;
        }
        for (Map.Entry<String, double[]> e : buffers.entrySet()) {
            if (!Arrays.equals(e.getValue(), g.buffers.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputShape) * 31 + nodes.hashCode();
    }

    @Override
    public String toString() {
        return "ModelGraph[input=" + Arrays.toString(inputShape) + (intInput ? " int64" : "") + ", nodes="
                + nodes.size() + ", loss=" + loss.jsonName() + ", dtype=" + dtype.jsonName() + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // shape inference

    /**
     * The per-sample output shape of every node (and of {@link #INPUT}) of a node list that need not
     * be a complete model yet (e.g. while an importer builds it).
     *
     * @throws IllegalArgumentException naming the node and both shapes where they do not chain
     */
    public static Map<String, long[]> inferShapes(long[] inputShape, boolean intInput, List<GraphNode> nodes) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        checkValuesPerSample("input.shape", inputShape);
        shapes.put(INPUT, inputShape.clone());
        for (int i = 0; i < nodes.size(); i++) {
            GraphNode node = nodes.get(i);
            String where = "node '" + node.name() + "' (" + node.op() + ")";
            if (node.name() == null || node.name().isBlank() || shapes.containsKey(node.name())) {
                throw new IllegalArgumentException("nodes: name '" + node.name() + "' is "
                        + (shapes.containsKey(node.name()) ? "used twice (or is the reserved name 'input')"
                        : "empty") + "; give every node a unique PyTorch module name");
            }
            List<String> inputs = inputsOf(nodes, i);
            List<long[]> in = new ArrayList<>();
            for (String name : inputs) {
                long[] s = shapes.get(name);
                if (s == null) {
                    throw new IllegalArgumentException(where + ": input '" + name
                            + "' is not the name of an earlier node or 'input'");
                }
                boolean ids = intInput && INPUT.equals(name);
                if (ids != (node instanceof GraphNode.Embedding)) {
                    throw new IllegalArgumentException(where + ": " + (ids
                            ? "reads the int64 token ids; only embedding nodes may read them"
                            : "an embedding reads the int64 token ids ('input' with \"dtype\": \"int64\")"));
                }
                in.add(s);
            }
            int arity = node instanceof GraphNode.Add ? 2 : 1;
            if (in.size() != arity) {
                throw new IllegalArgumentException(where + ": takes " + arity + " input(s), got " + in.size());
            }
            long[] out = outputShape(node, in, where);
            checkValuesPerSample(where, out);
            shapes.put(node.name(), out);
        }
        return shapes;
    }

    /** Refuses a per-sample shape of more than 2^31 − 1 values (no tensor of a batch could hold one sample). */
    private static void checkValuesPerSample(String where, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = d > 0 && n > Integer.MAX_VALUE / d ? Long.MAX_VALUE : n * d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where + ": " + Arrays.toString(shape) + " is more than 2^31 - 1 values"
                    + " per sample");
        }
    }

    private static long[] outputShape(GraphNode node, List<long[]> in, String where) {
        long[] x = in.get(0);
        String got = Arrays.toString(x);
        if (node instanceof GraphNode.Dense d) {
            positive(where, d.inFeatures(), d.outFeatures());
            if (x[x.length - 1] != d.inFeatures()) {
                throw new IllegalArgumentException(where + ": takes in_features=" + d.inFeatures()
                        + " on the last axis but its input has shape " + got);
            }
            long[] y = x.clone();
            y[y.length - 1] = d.outFeatures();
            return y;
        }
        if (node instanceof GraphNode.Conv2d c) {
            positive(where, c.inChannels(), c.outChannels(), c.kernel().h(), c.kernel().w(), c.stride().h(),
                    c.stride().w(), c.dilation().h(), c.dilation().w(), c.padding().h() + 1, c.padding().w() + 1);
            if (x.length != 3 || x[0] != c.inChannels()) {
                throw new IllegalArgumentException(where + ": takes [" + c.inChannels()
                        + ", H, W] but its input has shape " + got);
            }
            return new long[] {c.outChannels(), outSize(where, x[1], c.kernel().h(), c.stride().h(), c.padding().h(),
                    c.dilation().h(), got), outSize(where, x[2], c.kernel().w(), c.stride().w(), c.padding().w(),
                    c.dilation().w(), got)};
        }
        if (node instanceof GraphNode.Pool2d p) {
            positive(where, p.kernel().h(), p.kernel().w(), p.stride().h(), p.stride().w(), p.padding().h() + 1,
                    p.padding().w() + 1);
            if (x.length != 3) {
                throw new IllegalArgumentException(where + ": takes [C, H, W] but its input has shape " + got);
            }
            if (2 * p.padding().h() > p.kernel().h() || 2 * p.padding().w() > p.kernel().w()) {
                throw new IllegalArgumentException(where + ": padding must be at most half the kernel size");
            }
            return new long[] {x[0], outSize(where, x[1], p.kernel().h(), p.stride().h(), p.padding().h(), 1, got),
                    outSize(where, x[2], p.kernel().w(), p.stride().w(), p.padding().w(), 1, got)};
        }
        if (node instanceof GraphNode.GlobalAvgPool) {
            if (x.length != 3) {
                throw new IllegalArgumentException(where + ": takes [C, H, W] but its input has shape " + got);
            }
            return new long[] {x[0]};
        }
        if (node instanceof GraphNode.Flatten) {
            long n = 1;
            for (long d : x) {
                n = d > 0 && n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d; // saturating; checkSizes refuses it
            }
            return new long[] {n};
        }
        if (node instanceof GraphNode.Embedding e) {
            positive(where, e.numEmbeddings(), e.embeddingDim());
            long[] y = Arrays.copyOf(x, x.length + 1);
            y[x.length] = e.embeddingDim();
            return y;
        }
        if (node instanceof GraphNode.LayerNorm l) {
            positive(where, l.normalizedShape());
            nonNegative(where, "eps", l.eps());
            if (x[x.length - 1] != l.normalizedShape()) {
                throw new IllegalArgumentException(where + ": normalizes the last axis of size " + l.normalizedShape()
                        + " but its input has shape " + got);
            }
            return x.clone();
        }
        if (node instanceof GraphNode.BatchNorm b) {
            positive(where, b.numFeatures());
            nonNegative(where, "eps", b.eps());
            if (x[0] != b.numFeatures()) {
                throw new IllegalArgumentException(where + ": normalizes num_features=" + b.numFeatures()
                        + " channels on axis 0 but its input has shape " + got);
            }
            return x.clone();
        }
        if (node instanceof GraphNode.Dropout d) {
            if (!(d.p() >= 0 && d.p() < 1)) {
                throw new IllegalArgumentException(where + ": p must be in [0, 1), got " + d.p());
            }
            return x.clone();
        }
        if (node instanceof GraphNode.Add) {
            if (!Arrays.equals(x, in.get(1))) {
                throw new IllegalArgumentException(where + ": adds outputs of different shapes " + got + " and "
                        + Arrays.toString(in.get(1)));
            }
            return x.clone();
        }
        if (node instanceof GraphNode.Mean m) {
            if (x.length < 2 || m.axis() < 0 || m.axis() >= x.length) {
                throw new IllegalArgumentException(where + ": axis " + m.axis() + " must be a per-sample axis of an"
                        + " input with at least two axes; its input has shape " + got);
            }
            long[] y = new long[x.length - 1];
            for (int i = 0, j = 0; i < x.length; i++) {
                if (i != m.axis()) {
                    y[j++] = x[i];
                }
            }
            return y;
        }
        return x.clone(); // activations
    }

    private static long outSize(String where, long size, int kernel, int stride, int padding, int dilation, String got) {
        long out = (size + 2L * padding - (long) dilation * (kernel - 1) - 1) / stride + 1;
        if (size + 2L * padding - (long) dilation * (kernel - 1) - 1 < 0 || out <= 0) {
            throw new IllegalArgumentException(where + ": its kernel does not fit its input of shape " + got);
        }
        return out;
    }

    private static void positive(String where, int... values) {
        for (int v : values) {
            if (v <= 0) {
                throw new IllegalArgumentException(where + ": sizes, strides and dilations must be positive and"
                        + " paddings non-negative, got " + v + (v == 0 ? "" : " (padding " + (v - 1) + ")"));
            }
        }
    }

    private static void nonNegative(String where, String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(where + ": " + name + " must be finite and non-negative, got " + v);
        }
    }

    private static Map<String, double[]> completeBuffers(List<GraphNode> nodes, Map<String, double[]> given) {
        Map<String, Integer> sizes = bufferSizes(nodes);
        for (String name : given.keySet()) {
            if (!sizes.containsKey(name)) {
                throw new IllegalArgumentException("buffers: '" + name + "' is not a buffer of this graph; buffers: "
                        + sizes.keySet());
            }
        }
        Map<String, double[]> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : sizes.entrySet()) {
            double[] v = given.get(e.getKey());
            boolean variance = e.getKey().endsWith(".running_var");
            if (v == null) {
                v = new double[e.getValue()];
                Arrays.fill(v, variance ? 1.0 : 0.0);
            } else if (v.length != e.getValue()) {
                throw new IllegalArgumentException("buffers: '" + e.getKey() + "' has " + v.length
                        + " values but the graph needs " + e.getValue());
            }
            for (double d : v) {
                if (!Double.isFinite(d) || (variance && d < 0)) {
                    throw new IllegalArgumentException("buffers: '" + e.getKey() + "' holds " + d
                            + "; buffers must be finite and running variances non-negative");
                }
            }
            ordered.put(e.getKey(), v.clone());
        }
        return Collections.unmodifiableMap(ordered);
    }
}
