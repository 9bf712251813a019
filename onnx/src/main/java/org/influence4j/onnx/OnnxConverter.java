package org.influence4j.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx;
import org.influence4j.api.DType;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;

/**
 * One conversion of an ONNX graph into a {@link ModelGraph} (see {@link OnnxModels} for what is read).
 * Nodes are visited in the file's (topological) order; the multi-node patterns GELU and the
 * decomposed LayerNorm are found first and emitted at their first node.
 */
final class OnnxConverter {

    private static final Set<String> SUPPORTED = Set.of("Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool",
            "GlobalAveragePool", "Flatten", "Reshape", "Relu", "Tanh", "Sigmoid", "Softplus", "Gelu", "Erf", "Div",
            "Mul", "Sub", "Pow", "Sqrt", "BatchNormalization", "LayerNormalization", "Gather", "ReduceMean", "Dropout",
            "Identity", "Constant", "Squeeze", "Pad", "Transpose");

    /**
     * What an ONNX value is in the layer graph.
     *
     * @param node     the layer-graph node (or {@link ModelGraph#INPUT}) whose output it is
     * @param shape    its per-sample shape in the layer graph
     * @param squeezed whether ONNX keeps trailing axes of size 1 that the layer graph dropped
     *                 (a global average pool's {@code [C, 1, 1]})
     */
    private record Val(String node, long[] shape, boolean squeezed) {
    }

    private final Onnx.GraphProto graph;
    private final Map<String, OnnxTensors> constants = new HashMap<>();
    private final Map<String, Val> values = new HashMap<>();
    private final Map<String, List<Onnx.NodeProto>> consumers = new HashMap<>();
    private final Map<String, Onnx.NodeProto> producers = new HashMap<>();
    private final Set<Onnx.NodeProto> done = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<Onnx.NodeProto, Runnable> patterns = new IdentityHashMap<>();
    private final List<GraphNode> nodes = new ArrayList<>();
    private final Map<String, double[]> parameters = new HashMap<>();
    private final Map<String, double[]> buffers = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private boolean intInput;
    private long[] inputShape;

    OnnxConverter(Onnx.GraphProto graph) {
        this.graph = graph;
    }

    OnnxModels.Imported convert(Loss loss, DType dtype) {
        for (Onnx.TensorProto t : graph.getInitializerList()) {
            constants.put(t.getName(), OnnxTensors.of(t));
        }
        List<String> unsupported = new ArrayList<>();
        for (Onnx.NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant")) {
                for (Onnx.AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value")) {
                        constants.put(n.getOutput(0), OnnxTensors.of(a.getT().toBuilder().setName(n.getOutput(0))
                                .build()));
                    }
                }
                done.add(n);
            } else if (!SUPPORTED.contains(n.getOpType()) || !(n.getDomain().isEmpty()
                    || n.getDomain().equals("ai.onnx"))) {
                unsupported.add(n.getOpType() + " '" + n.getName() + "'");
            }
            for (String in : n.getInputList()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
            for (String out : n.getOutputList()) {
                producers.put(out, n);
            }
        }
        if (!unsupported.isEmpty()) {
            throw new IllegalArgumentException(unsupported.size() + " unsupported node(s): "
                    + String.join(", ", unsupported) + "; supported ops: " + new java.util.TreeSet<>(SUPPORTED));
        }
        readInput();
        findPatterns();
        for (Onnx.NodeProto n : graph.getNodeList()) {
            Runnable pattern = patterns.get(n);
            if (pattern != null) {
                pattern.run();
            } else if (!done.contains(n)) {
                convert(n);
            }
        }
        if (graph.getOutputCount() != 1) {
            throw new IllegalArgumentException("the graph has " + graph.getOutputCount() + " outputs; one is expected");
        }
        Val out = value(graph.getOutput(0).getName(), "the graph output");
        if (nodes.isEmpty() || !out.node().equals(nodes.get(nodes.size() - 1).name())) {
            throw new IllegalArgumentException("the graph output '" + graph.getOutput(0).getName()
                    + "' is not computed by the last node");
        }
        ModelGraph g = new ModelGraph(inputShape, intInput, nodes, loss, dtype, buffers);
        double[] theta = new double[g.numParameters()];
        for (ParameterInfo info : g.parameterLayout()) {
            double[] data = parameters.get(info.name());
            if (data == null || data.length != info.size()) {
                throw new IllegalStateException("parameter " + info.name() + " was not converted");
            }
            System.arraycopy(data, 0, theta, info.offset(), data.length);
        }
        return new OnnxModels.Imported(ModelSpec.of(g), theta);
    }

    // ---------------------------------------------------------------------------------------------
    // input

    private int inputIndex() {
        int index = -1;
        List<String> real = new ArrayList<>();
        for (int i = 0; i < graph.getInputCount(); i++) {
            if (!constants.containsKey(graph.getInput(i).getName())) {
                real.add(graph.getInput(i).getName());
                index = i;
            }
        }
        if (real.size() != 1) {
            throw new IllegalArgumentException("the graph has " + real.size() + " inputs " + real + " that are not"
                    + " initializers; influence4j reads one data input with the weights as initializers: export"
                    + " with torch.onnx.export(model, x, f, export_params=True, keep_initializers_as_inputs=False)");
        }
        return index;
    }

    private void readInput() {
        Onnx.ValueInfoProto input = graph.getInput(inputIndex());
        Onnx.TypeProto.Tensor type = input.getType().getTensorType();
        intInput = switch (type.getElemType()) {
            case 1, 10, 11 -> false;
            case 6, 7 -> true;
            default -> throw new IllegalArgumentException("input '" + input.getName() + "' has ONNX element type "
                    + type.getElemType() + "; float features or int64 token ids are read");
        };
        List<Onnx.TensorShapeProto.Dimension> dims = type.getShape().getDimList();
        if (dims.size() < 2) {
            throw new IllegalArgumentException("input '" + input.getName() + "' has rank " + dims.size()
                    + "; expected [batch, ...]");
        }
        long[] shape = new long[dims.size() - 1];
        for (int i = 1; i < dims.size(); i++) {
            if (!dims.get(i).hasDimValue() || dims.get(i).getDimValue() <= 0) {
                throw new IllegalArgumentException("input '" + input.getName() + "': axis " + i + " is not a fixed"
                        + " size (only the batch axis may be dynamic)");
            }
            shape[i - 1] = dims.get(i).getDimValue();
        }
        values.put(input.getName(), new Val(ModelGraph.INPUT, shape, false));
        inputShape = shape;
    }

    // ---------------------------------------------------------------------------------------------
    // single nodes

    private void convert(Onnx.NodeProto n) {
        String op = n.getOpType();
        switch (op) {
            case "Identity", "Dropout" -> values.put(n.getOutput(0), in(n, 0));
            case "Pad" -> {
                List<Long> pads = n.getInputCount() > 1 ? Arrays.stream(constant(n, 1).data()).mapToObj(v -> (long) v)
                        .toList() : attrInts(n, "pads");
                if (pads.stream().anyMatch(v -> v != 0)) {
                    throw unsupported(n, "only a Pad of zero width is read (pool and conv padding is read from"
                            + " their own pads)");
                }
                values.put(n.getOutput(0), in(n, 0));
            }
            case "Transpose" -> {
                OnnxTensors t = constant(n, 0);
                List<Long> perm = attrInts(n, "perm");
                if (t.dims().length != 2 || !(perm.isEmpty() || perm.equals(List.of(1L, 0L)))) {
                    throw unsupported(n, "only the transpose of a 2-D weight initializer is read");
                }
                constants.put(n.getOutput(0), new OnnxTensors(n.getOutput(0), new long[] {t.dims()[1], t.dims()[0]},
                        t.transposed()));
            }
            case "Relu", "Tanh", "Sigmoid", "Softplus", "Gelu" -> {
                if (op.equals("Gelu") && !attrString(n, "approximate", "none").equals("none")) {
                    throw unsupported(n, "the tanh approximation of GELU is not supported");
                }
                Val x = in(n, 0);
                add(n, new GraphNode.Act(unique(n), List.of(x.node()), Activation.parse(op)), x.shape());
            }
            case "Gemm" -> gemm(n);
            case "MatMul" -> matmul(n);
            case "Conv" -> conv(n);
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> {
                Val x = image(n);
                add(n, new GraphNode.GlobalAvgPool(unique(n), List.of(x.node())), new long[] {x.shape()[0]}, true);
            }
            case "Flatten" -> flatten(n, attrInt(n, "axis", 1) == 1);
            case "Reshape" -> {
                OnnxTensors target = constant(n, 1);
                boolean toRows = target.size() == 2 && (target.data()[0] == -1 || target.data()[0] == 0);
                flatten(n, toRows);
            }
            case "Squeeze" -> {
                Val x = in(n, 0);
                if (!x.squeezed()) {
                    throw unsupported(n, "Squeeze is read only after a global average pool");
                }
                values.put(n.getOutput(0), new Val(x.node(), x.shape(), false));
            }
            case "BatchNormalization" -> batchNorm(n);
            case "LayerNormalization" -> {
                Val x = in(n, 0);
                if (attrInt(n, "axis", -1) != -1 && attrInt(n, "axis", -1) != x.shape().length) {
                    throw unsupported(n, "LayerNormalization is read over the last axis only");
                }
                OnnxTensors scale = constant(n, 1);
                OnnxTensors bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constant(n, 2) : null;
                layerNorm(n, x, attrFloat(n, "epsilon", 1e-5), scale, bias, n.getOutput(0));
            }
            case "Gather" -> embedding(n);
            case "Add" -> {
                if (constants.containsKey(n.getInput(0)) || constants.containsKey(n.getInput(1))) {
                    throw unsupported(n, "an Add of a constant is read only as the bias of a MatMul");
                }
                Val a = in(n, 0);
                Val b = in(n, 1);
                add(n, new GraphNode.Add(unique(n), List.of(a.node(), b.node())), a.shape());
            }
            case "ReduceMean" -> reduceMean(n);
            default -> throw unsupported(n, op + " is read only as part of GELU's x·(1 + erf(x/√2))/2 or of a"
                    + " LayerNorm written out with ReduceMean, Sub, Pow, Sqrt and Div");
        }
    }

    private void gemm(Onnx.NodeProto n) {
        if (attrInt(n, "transA", 0) != 0 || attrFloat(n, "alpha", 1) != 1 || attrFloat(n, "beta", 1) != 1) {
            throw unsupported(n, "Gemm is read with transA = 0 and alpha = beta = 1 (nn.Linear)");
        }
        Val x = in(n, 0);
        OnnxTensors b = constant(n, 1);
        boolean transB = attrInt(n, "transB", 0) == 1;
        double[] weight = transB ? b.data() : b.transposed();
        int out = (int) (transB ? b.dims()[0] : b.dims()[1]);
        OnnxTensors c = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constant(n, 2) : null;
        dense(n, x, weight, out, b.name(), c, n.getOutput(0));
    }

    private void matmul(Onnx.NodeProto n) {
        Val x = in(n, 0);
        OnnxTensors w = constant(n, 1);
        if (w.dims().length != 2) {
            throw unsupported(n, "MatMul is read with a 2-D weight initializer (nn.Linear)");
        }
        List<Onnx.NodeProto> next = consumers.getOrDefault(n.getOutput(0), List.of());
        OnnxTensors bias = null;
        String output = n.getOutput(0);
        if (next.size() == 1 && next.get(0).getOpType().equals("Add")) {
            Onnx.NodeProto add = next.get(0);
            String other = add.getInput(0).equals(n.getOutput(0)) ? add.getInput(1) : add.getInput(0);
            OnnxTensors c = constants.get(other);
            if (c != null && c.size() == w.dims()[1]) {
                bias = c;
                output = add.getOutput(0);
                done.add(add);
            }
        }
        dense(n, x, w.transposed(), (int) w.dims()[1], w.name(), bias, output);
    }

    private void dense(Onnx.NodeProto n, Val x, double[] weight, int out, String weightName, OnnxTensors bias,
                       String output) {
        long[] s = x.shape();
        int in = (int) s[s.length - 1];
        if ((long) in * out != weight.length) {
            throw unsupported(n, "its weight does not map the last axis of size " + in + " to " + out);
        }
        String name = unique(prefix(bias == null ? weightName : bias.name(), bias == null ? "weight" : "bias", n));
        parameters.put(name + ".weight", weight);
        if (bias != null) {
            parameters.put(name + ".bias", bias.data());
        }
        long[] y = s.clone();
        y[y.length - 1] = out;
        nodes.add(new GraphNode.Dense(name, List.of(x.node()), in, out, bias != null));
        values.put(output, new Val(name, y, false));
    }

    private void conv(Onnx.NodeProto n) {
        Val x = image(n);
        OnnxTensors w = constant(n, 1);
        if (attrInt(n, "group", 1) != 1 || w.dims().length != 4) {
            throw unsupported(n, "Conv is read as a 2-D convolution with group = 1");
        }
        autoPad(n);
        int kh = (int) w.dims()[2];
        int kw = (int) w.dims()[3];
        GraphNode.Pair padding = pads(n);
        OnnxTensors b = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? constant(n, 2) : null;
        String name = unique(prefix(w.name(), "weight", n));
        parameters.put(name + ".weight", w.data());
        if (b != null) {
            parameters.put(name + ".bias", b.data());
        }
        GraphNode.Conv2d c = new GraphNode.Conv2d(name, List.of(x.node()), (int) w.dims()[1], (int) w.dims()[0],
                new GraphNode.Pair(kh, kw), pair(n, "strides", 1), padding, pair(n, "dilations", 1), b != null);
        add(c, n.getOutput(0));
    }

    private void pool(Onnx.NodeProto n) {
        Val x = image(n);
        autoPad(n);
        if (attrInt(n, "ceil_mode", 0) != 0 || !pair(n, "dilations", 1).equals(GraphNode.Pair.of(1))) {
            throw unsupported(n, "pooling is read with ceil_mode = 0 and dilation 1");
        }
        boolean max = n.getOpType().equals("MaxPool");
        GraphNode.Pair padding = pads(n);
        if (!max && attrInt(n, "count_include_pad", 0) == 0 && !padding.equals(GraphNode.Pair.of(0))) {
            throw unsupported(n, "average pooling with padding is read with count_include_pad = 1 (PyTorch's"
                    + " default)");
        }
        List<Long> kernel = attrInts(n, "kernel_shape");
        GraphNode.Pool2d p = new GraphNode.Pool2d(unique(n), List.of(x.node()), max,
                new GraphNode.Pair(kernel.get(0).intValue(), kernel.get(1).intValue()), pair(n, "strides", 1),
                padding);
        add(p, n.getOutput(0));
    }

    /** Adds a node and records its output shape as the layer graph infers it. */
    private void add(GraphNode node, String output) {
        nodes.add(node);
        long[] shape = ModelGraph.inferShapes(inputShape, intInput, nodes).get(node.name());
        values.put(output, new Val(node.name(), shape, false));
    }

    private void flatten(Onnx.NodeProto n, boolean toRows) {
        Val x = in(n, 0);
        if (!toRows) {
            throw unsupported(n, "only a flattening to [batch, features] is read");
        }
        if (x.shape().length == 1 || x.squeezed()) {
            values.put(n.getOutput(0), new Val(x.node(), x.shape(), false));
            return;
        }
        long size = 1;
        for (long d : x.shape()) {
            size *= d;
        }
        add(n, new GraphNode.Flatten(unique(n), List.of(x.node())), new long[] {size});
    }

    private void batchNorm(Onnx.NodeProto n) {
        Val x = in(n, 0);
        if (attrInt(n, "training_mode", 0) != 0) {
            throw unsupported(n, "BatchNormalization is read in inference mode; export the model in eval()");
        }
        OnnxTensors scale = constant(n, 1);
        OnnxTensors bias = constant(n, 2);
        OnnxTensors mean = constant(n, 3);
        OnnxTensors var = constant(n, 4);
        String name = unique(prefix(scale.name(), "weight", n));
        parameters.put(name + ".weight", scale.data());
        parameters.put(name + ".bias", bias.data());
        buffers.put(name + ".running_mean", mean.data());
        buffers.put(name + ".running_var", var.data());
        add(n, new GraphNode.BatchNorm(name, List.of(x.node()), (int) scale.size(), attrFloat(n, "epsilon", 1e-5),
                true), x.shape());
    }

    private void layerNorm(Onnx.NodeProto n, Val x, double eps, OnnxTensors scale, OnnxTensors bias, String output) {
        long d = x.shape()[x.shape().length - 1];
        if (scale.size() != d || (bias != null && bias.size() != d)) {
            throw unsupported(n, "LayerNorm weights must have the size " + d + " of the last axis");
        }
        String name = unique(prefix(scale.name(), "weight", n));
        parameters.put(name + ".weight", scale.data());
        parameters.put(name + ".bias", bias == null ? new double[(int) d] : bias.data());
        nodes.add(new GraphNode.LayerNorm(name, List.of(x.node()), (int) d, eps, true));
        values.put(output, new Val(name, x.shape(), false));
    }

    private void embedding(Onnx.NodeProto n) {
        OnnxTensors w = constant(n, 0);
        Val ids = in(n, 1);
        if (attrInt(n, "axis", 0) != 0 || w.dims().length != 2 || !ids.node().equals(ModelGraph.INPUT) || !intInput) {
            throw unsupported(n, "Gather is read as an embedding: rows (axis 0) of a 2-D initializer picked by the"
                    + " int64 model input");
        }
        String name = unique(prefix(w.name(), "weight", n));
        parameters.put(name + ".weight", w.data());
        long[] y = Arrays.copyOf(ids.shape(), ids.shape().length + 1);
        y[ids.shape().length] = w.dims()[1];
        nodes.add(new GraphNode.Embedding(name, List.of(ModelGraph.INPUT), (int) w.dims()[0], (int) w.dims()[1]));
        values.put(n.getOutput(0), new Val(name, y, false));
    }

    private void reduceMean(Onnx.NodeProto n) {
        Val x = in(n, 0);
        List<Long> axes = n.getInputCount() > 1 && !n.getInput(1).isEmpty()
                ? Arrays.stream(constant(n, 1).data()).mapToObj(v -> (long) v).toList() : attrInts(n, "axes");
        int rank = x.shape().length + 1;
        List<Long> normalized = axes.stream().map(a -> a < 0 ? a + rank : a).sorted().toList();
        boolean keep = attrInt(n, "keepdims", 1) == 1;
        if (rank == 4 && normalized.equals(List.of(2L, 3L))) {
            add(n, new GraphNode.GlobalAvgPool(unique(n), List.of(x.node())), new long[] {x.shape()[0]}, keep);
        } else if (normalized.size() == 1 && normalized.get(0) >= 1 && !keep) {
            int axis = (int) (normalized.get(0) - 1);
            long[] y = new long[x.shape().length - 1];
            for (int i = 0, j = 0; i < x.shape().length; i++) {
                if (i != axis) {
                    y[j++] = x.shape()[i];
                }
            }
            add(n, new GraphNode.Mean(unique(n), List.of(x.node()), axis), y);
        } else {
            throw unsupported(n, "ReduceMean is read over one per-sample axis (keepdims = 0) or over H and W of an"
                    + " image (a global average pool)");
        }
    }

    private void add(Onnx.NodeProto n, GraphNode node, long[] shape) {
        add(n, node, shape, false);
    }

    private void add(Onnx.NodeProto n, GraphNode node, long[] shape, boolean squeezed) {
        nodes.add(node);
        values.put(n.getOutput(0), new Val(node.name(), shape, squeezed));
    }

    // ---------------------------------------------------------------------------------------------
    // patterns

    private void findPatterns() {
        for (Onnx.NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Erf")) {
                gelu(n);
            } else if (n.getOpType().equals("ReduceMean")) {
                decomposedLayerNorm(n);
            }
        }
    }

    /** x·(1 + erf(x/√2))/2 as torch.onnx writes GELU below opset 20: Div, Erf, Add, Mul, Mul. */
    private void gelu(Onnx.NodeProto erf) {
        Onnx.NodeProto scale = producers.get(erf.getInput(0));
        if (scale == null) {
            return;
        }
        String x;
        if (scale.getOpType().equals("Div") && near(constantOf(scale.getInput(1)), Math.sqrt(2))) {
            x = scale.getInput(0);
        } else if (scale.getOpType().equals("Mul") && near(constantOf(scale.getInput(1)), Math.sqrt(0.5))) {
            x = scale.getInput(0);
        } else {
            return;
        }
        Onnx.NodeProto plus = only(erf.getOutput(0), "Add");
        if (plus == null || !near(constantOf(other(plus, erf.getOutput(0))), 1)) {
            return;
        }
        Onnx.NodeProto times = only(plus.getOutput(0), "Mul");
        if (times == null) {
            return;
        }
        String factor = other(times, plus.getOutput(0));
        Onnx.NodeProto last;
        List<Onnx.NodeProto> matched = new ArrayList<>(List.of(scale, erf, plus, times));
        if (factor.equals(x)) {
            last = only(times.getOutput(0), "Mul");
            if (last == null || !near(constantOf(other(last, times.getOutput(0))), 0.5)) {
                return;
            }
            matched.add(last);
        } else {
            Onnx.NodeProto half = producers.get(factor);
            if (half == null || !half.getOpType().equals("Mul") || !half.getInput(0).equals(x)
                    || !near(constantOf(half.getInput(1)), 0.5)) {
                return;
            }
            last = times;
            matched.add(half);
        }
        String output = last.getOutput(0);
        done.addAll(matched);
        Onnx.NodeProto first = graph.getNodeList().stream().filter(matched::contains).findFirst().orElseThrow();
        done.remove(first);
        patterns.put(first, () -> {
            Val v = value(x, "GELU input");
            nodes.add(new GraphNode.Act(unique(first), List.of(v.node()), Activation.GELU));
            values.put(output, new Val(nodes.get(nodes.size() - 1).name(), v.shape(), false));
        });
    }

    /**
     * LayerNorm as torch.onnx writes it below opset 17: mean = ReduceMean(x), d = Sub(x, mean),
     * var = ReduceMean(Pow(d, 2)), y = Div(d, Sqrt(Add(var, eps))), then Mul(y, weight), Add(·, bias).
     */
    private void decomposedLayerNorm(Onnx.NodeProto mean) {
        String x = mean.getInput(0);
        Onnx.NodeProto sub = only(mean.getOutput(0), "Sub");
        if (sub == null || !sub.getInput(0).equals(x) || !lastAxis(mean)) {
            return;
        }
        Onnx.NodeProto pow = null;
        Onnx.NodeProto div = null;
        for (Onnx.NodeProto c : consumers.getOrDefault(sub.getOutput(0), List.of())) {
            if (c.getOpType().equals("Pow")) {
                pow = c;
            } else if (c.getOpType().equals("Div")) {
                div = c;
            }
        }
        if (pow == null || div == null || !near(constantOf(pow.getInput(1)), 2)) {
            return;
        }
        Onnx.NodeProto var = only(pow.getOutput(0), "ReduceMean");
        Onnx.NodeProto addEps = var == null ? null : only(var.getOutput(0), "Add");
        Onnx.NodeProto sqrt = addEps == null ? null : only(addEps.getOutput(0), "Sqrt");
        if (sqrt == null || !div.getInput(1).equals(sqrt.getOutput(0)) || !lastAxis(var)) {
            return;
        }
        Double eps = constantOf(other(addEps, var.getOutput(0)));
        Onnx.NodeProto mul = only(div.getOutput(0), "Mul");
        OnnxTensors weight = mul == null ? null : constants.get(other(mul, div.getOutput(0)));
        Onnx.NodeProto plus = mul == null ? null : only(mul.getOutput(0), "Add");
        OnnxTensors bias = plus == null ? null : constants.get(other(plus, mul.getOutput(0)));
        if (eps == null || weight == null || bias == null) {
            return;
        }
        List<Onnx.NodeProto> matched = List.of(mean, sub, pow, var, addEps, sqrt, div, mul, plus);
        done.addAll(matched);
        done.remove(mean);
        String output = plus.getOutput(0);
        patterns.put(mean, () -> layerNorm(mean, value(x, "LayerNorm input"), eps, weight, bias, output));
    }

    private boolean lastAxis(Onnx.NodeProto reduce) {
        List<Long> axes = reduce.getInputCount() > 1 && constants.containsKey(reduce.getInput(1))
                ? Arrays.stream(constants.get(reduce.getInput(1)).data()).mapToObj(v -> (long) v).toList()
                : attrInts(reduce, "axes");
        return axes.equals(List.of(-1L)) && attrInt(reduce, "keepdims", 1) == 1;
    }

    private Onnx.NodeProto only(String value, String op) {
        List<Onnx.NodeProto> c = consumers.getOrDefault(value, List.of());
        return c.size() == 1 && c.get(0).getOpType().equals(op) ? c.get(0) : null;
    }

    private static String other(Onnx.NodeProto n, String one) {
        return n.getInput(0).equals(one) ? n.getInput(1) : n.getInput(0);
    }

    private Double constantOf(String name) {
        OnnxTensors t = constants.get(name);
        return t == null || t.size() != 1 ? null : t.data()[0];
    }

    private static boolean near(Double value, double expected) {
        return value != null && Math.abs(value - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    private Val in(Onnx.NodeProto n, int i) {
        return value(input(n, i), "input " + i + " of node '" + n.getName() + "' (" + n.getOpType() + ")");
    }

    /** @return the name of input {@code i} of {@code n} */
    private static String input(Onnx.NodeProto n, int i) {
        if (i >= n.getInputCount() || n.getInput(i).isEmpty()) {
            throw unsupported(n, "it has no input " + i + " (" + n.getInputCount() + " inputs)");
        }
        if (n.getOutputCount() == 0) {
            throw unsupported(n, "it has no output");
        }
        return n.getInput(i);
    }

    private Val value(String name, String what) {
        Val v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException(what + ": value '" + name + "' is "
                    + (constants.containsKey(name) ? "a constant where data is expected" : "not computed before it"));
        }
        return v;
    }

    private Val image(Onnx.NodeProto n) {
        Val x = in(n, 0);
        if (x.shape().length != 3 || x.squeezed()) {
            throw unsupported(n, "it needs an image [C, H, W], its input has " + Arrays.toString(x.shape()));
        }
        return x;
    }

    private OnnxTensors constant(Onnx.NodeProto n, int i) {
        OnnxTensors t = constants.get(input(n, i));
        if (t == null) {
            throw unsupported(n, "input " + i + " ('" + n.getInput(i) + "') must be an initializer or constant");
        }
        return t;
    }

    private static IllegalArgumentException unsupported(Onnx.NodeProto n, String why) {
        return new IllegalArgumentException("node '" + n.getName() + "' (" + n.getOpType() + "): " + why);
    }

    private static Onnx.AttributeProto attr(Onnx.NodeProto n, String name) {
        for (Onnx.AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    private static long attrInt(Onnx.NodeProto n, String name, long fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getI();
    }

    private static double attrFloat(Onnx.NodeProto n, String name, double fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getF();
    }

    private static String attrString(Onnx.NodeProto n, String name, String fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    private static List<Long> attrInts(Onnx.NodeProto n, String name) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? List.of() : a.getIntsList();
    }

    private static void autoPad(Onnx.NodeProto n) {
        String mode = attrString(n, "auto_pad", "NOTSET");
        if (!mode.equals("NOTSET")) {
            throw unsupported(n, "auto_pad " + mode + " is not read; PyTorch exports explicit pads");
        }
    }

    private static GraphNode.Pair pads(Onnx.NodeProto n) {
        List<Long> p = attrInts(n, "pads");
        if (p.isEmpty()) {
            return GraphNode.Pair.of(0);
        }
        if (p.size() != 4 || !p.get(0).equals(p.get(2)) || !p.get(1).equals(p.get(3))) {
            throw unsupported(n, "pads " + p + " are not symmetric [top, left, bottom, right]");
        }
        return new GraphNode.Pair(p.get(0).intValue(), p.get(1).intValue());
    }

    private static GraphNode.Pair pair(Onnx.NodeProto n, String name, int fallback) {
        List<Long> v = attrInts(n, name);
        if (v.isEmpty()) {
            return GraphNode.Pair.of(fallback);
        }
        if (v.size() != 2) {
            throw unsupported(n, name + " " + v + " are not two values (a 2-D operation)");
        }
        return new GraphNode.Pair(v.get(0).intValue(), v.get(1).intValue());
    }

    /**
     * @return the PyTorch module name of an initializer {@code <module>.<suffix>} (e.g. {@code 0} of
     *     {@code 0.weight}), or a name made from the ONNX node when the initializer has a generated name
     */
    private static String prefix(String initializer, String suffix, Onnx.NodeProto n) {
        String end = "." + suffix;
        if (initializer != null && initializer.endsWith(end) && initializer.length() > end.length()) {
            return initializer.substring(0, initializer.length() - end.length());
        }
        return nodeName(n);
    }

    private static String nodeName(Onnx.NodeProto n) {
        String raw = n.getName().isEmpty() ? n.getOpType() : n.getName();
        String cleaned = raw.replaceAll("^/+", "").replace('/', '.');
        return cleaned.isEmpty() ? n.getOpType() : cleaned;
    }

    private String unique(Onnx.NodeProto n) {
        return unique(nodeName(n));
    }

    private String unique(String base) {
        String name = base;
        for (int i = 1; names.contains(name) || name.equals(ModelGraph.INPUT); i++) {
            name = base + "_" + i;
        }
        names.add(name);
        return name;
    }
}
