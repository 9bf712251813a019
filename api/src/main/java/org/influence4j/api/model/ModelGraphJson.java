package org.influence4j.api.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.influence4j.api.DType;

/**
 * The JSON form of a {@link ModelGraph} (format 2):
 * <pre>{@code
 * {"format": 2,
 *  "input": {"shape": [1, 28, 28], "dtype": "float"},          // or "int64" for token ids [T]
 *  "nodes": [{"name": "0", "op": "conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 5},
 *            {"name": "1", "op": "relu"}, ...,
 *            {"name": "add1", "op": "add", "inputs": ["block", "stem"]}],
 *  "loss": "softmax_cross_entropy", "dtype": "float32"}
 * }</pre>
 * A node reads the previous node's output unless it lists {@code inputs} (earlier node names or
 * {@code input}). Instead of {@code nodes}, a {@code layers} list is the sequential shorthand: the
 * same objects, named {@code 0, 1, 2, …} like {@code nn.Sequential} unless they carry a name.
 *
 * <p>Attributes and defaults (PyTorch's names): {@code dense} in_features, out_features, bias=true;
 * {@code conv2d} in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=true
 * (ints or [h, w] pairs); {@code max_pool2d}/{@code avg_pool2d} kernel_size, stride=kernel_size,
 * padding=0; {@code global_avg_pool}; {@code flatten}; {@code embedding} num_embeddings,
 * embedding_dim; {@code layer_norm} normalized_shape, eps=1e-5, elementwise_affine=true;
 * {@code batch_norm} num_features, eps=1e-5, affine=true; {@code dropout} p=0.5; {@code add};
 * {@code mean} axis (per-sample, batch axis not counted); {@code relu}, {@code gelu}, {@code tanh},
 * {@code sigmoid}, {@code softplus}, {@code identity}. Unknown keys are errors. An optional
 * {@code buffers} object holds buffer values by name ({@code "bn.running_mean": [...]}); missing
 * buffers take PyTorch's initial values.
 */
public final class ModelGraphJson {

    private static final Set<String> COMMON = Set.of("name", "op", "inputs");

    private ModelGraphJson() {
    }

    /**
     * Parses a format-2 document already read as maps and lists.
     *
     * @throws IllegalArgumentException naming the offending field
     */
    static ModelGraph fromJson(Map<?, ?> root) {
        allowOnly(root, "model spec", Set.of("format", "input", "nodes", "layers", "loss", "dtype", "buffers"));
        if (!(root.get("input") instanceof Map<?, ?> input)) {
            throw new IllegalArgumentException("model spec: 'input' must be an object {\"shape\": [...], \"dtype\":"
                    + " \"float\"|\"int64\"}");
        }
        allowOnly(input, "input", Set.of("shape", "dtype"));
        long[] shape = ints(input.get("shape"), "input.shape").stream().mapToLong(Integer::longValue).toArray();
        String inputType = input.get("dtype") == null ? "float" : String.valueOf(input.get("dtype"));
        boolean ids = switch (inputType) {
            case "float", "float32", "float64" -> false;
            case "int64", "long", "ids" -> true;
            default -> throw new IllegalArgumentException("input.dtype: '" + inputType + "' is unknown; use float or"
                    + " int64");
        };
        boolean sequential = root.containsKey("layers");
        if (sequential == root.containsKey("nodes")) {
            throw new IllegalArgumentException("model spec: give either 'nodes' (a graph) or 'layers' (the sequential"
                    + " shorthand), not " + (sequential ? "both" : "neither"));
        }
        Object list = root.get(sequential ? "layers" : "nodes");
        if (!(list instanceof List<?> items) || items.isEmpty()) {
            throw new IllegalArgumentException("model spec: '" + (sequential ? "layers" : "nodes")
                    + "' must be a non-empty array");
        }
        List<GraphNode> nodes = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String where = (sequential ? "layers[" : "nodes[") + i + "]";
            if (!(items.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("model spec: " + where + " must be an object");
            }
            Object name = m.get("name");
            if (name == null && !sequential) {
                throw new IllegalArgumentException("model spec: " + where + ".name is missing");
            }
            nodes.add(node(m, name == null ? String.valueOf(i) : String.valueOf(name), where));
        }
        Object loss = root.get("loss");
        if (loss == null) {
            throw new IllegalArgumentException("model spec: 'loss' is missing");
        }
        Object dtype = root.get("dtype");
        return new ModelGraph(shape, ids, nodes, Loss.parse(String.valueOf(loss)),
                dtype == null ? DType.FLOAT32 : DType.parse(String.valueOf(dtype)), buffers(root.get("buffers")));
    }

    /** The optional {@code buffers} object: name → array of numbers (batch-norm running statistics). */
    private static Map<String, double[]> buffers(Object value) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("model spec: 'buffers' must be an object of number arrays");
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof List<?> list)) {
                throw new IllegalArgumentException("model spec: buffers." + e.getKey() + " must be an array of numbers");
            }
            double[] values = new double[list.size()];
            for (int i = 0; i < values.length; i++) {
                if (!(list.get(i) instanceof Number n)) {
                    throw new IllegalArgumentException("model spec: buffers." + e.getKey() + "[" + i
                            + "] must be a number, got " + list.get(i));
                }
                values[i] = n.doubleValue();
            }
            out.put(String.valueOf(e.getKey()), values);
        }
        return out;
    }

    private static GraphNode node(Map<?, ?> m, String name, String where) {
        String op = String.valueOf(m.get("op"));
        List<String> inputs = new ArrayList<>();
        if (m.get("inputs") != null) {
            if (!(m.get("inputs") instanceof List<?> l)) {
                throw new IllegalArgumentException("model spec: " + where + ".inputs must be an array of node names");
            }
            l.forEach(o -> inputs.add(String.valueOf(o)));
        }
        Attributes a = new Attributes(m, where + " (" + op + ")");
        GraphNode node = switch (op) {
            case "dense", "linear" -> new GraphNode.Dense(name, inputs, a.integer("in_features"),
                    a.integer("out_features"), a.bool("bias", true));
            case "conv2d" -> new GraphNode.Conv2d(name, inputs, a.integer("in_channels"), a.integer("out_channels"),
                    a.pair("kernel_size", null), a.pair("stride", GraphNode.Pair.of(1)),
                    a.pair("padding", GraphNode.Pair.of(0)), a.pair("dilation", GraphNode.Pair.of(1)),
                    a.bool("bias", true));
            case "max_pool2d", "avg_pool2d" -> {
                GraphNode.Pair kernel = a.pair("kernel_size", null);
                yield new GraphNode.Pool2d(name, inputs, op.startsWith("max"), kernel, a.pair("stride", kernel),
                        a.pair("padding", GraphNode.Pair.of(0)));
            }
            case "global_avg_pool" -> new GraphNode.GlobalAvgPool(name, inputs);
            case "flatten" -> new GraphNode.Flatten(name, inputs);
            case "embedding" -> new GraphNode.Embedding(name, inputs, a.integer("num_embeddings"),
                    a.integer("embedding_dim"));
            case "layer_norm" -> new GraphNode.LayerNorm(name, inputs, a.integer("normalized_shape"),
                    a.real("eps", 1e-5), a.bool("elementwise_affine", true));
            case "batch_norm" -> new GraphNode.BatchNorm(name, inputs, a.integer("num_features"), a.real("eps", 1e-5),
                    a.bool("affine", true));
            case "dropout" -> new GraphNode.Dropout(name, inputs, a.real("p", 0.5));
            case "add" -> new GraphNode.Add(name, inputs);
            case "mean" -> new GraphNode.Mean(name, inputs, a.integer("axis"));
            case "relu", "gelu", "tanh", "sigmoid", "softplus", "identity" ->
                    new GraphNode.Act(name, inputs, Activation.parse(op));
            default -> throw new IllegalArgumentException("model spec: " + where + ".op '" + op + "' is unknown; use"
                    + " dense, conv2d, max_pool2d, avg_pool2d, global_avg_pool, flatten, embedding, layer_norm,"
                    + " batch_norm, dropout, add, mean, relu, gelu, tanh, sigmoid, softplus or identity");
        };
        a.checkAllUsed();
        return node;
    }

    /**
     * @return the format-2 JSON document of {@code graph}, with its buffers (so that a spec sent as
     *     JSON, e.g. to Spark executors, keeps its batch-norm running statistics)
     */
    static Map<String, Object> toJson(ModelGraph graph) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", 2L);
        Map<String, Object> input = new LinkedHashMap<>();
        List<Object> shape = new ArrayList<>();
        for (long d : graph.inputShape()) {
            shape.add(d);
        }
        input.put("shape", shape);
        input.put("dtype", graph.intInput() ? "int64" : "float");
        root.put("input", input);
        List<Object> nodes = new ArrayList<>();
        for (GraphNode node : graph.nodes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", node.name());
            m.put("op", node.op());
            if (!node.inputs().isEmpty()) {
                m.put("inputs", new ArrayList<Object>(node.inputs()));
            }
            if (node instanceof GraphNode.Dense d) {
                m.put("in_features", (long) d.inFeatures());
                m.put("out_features", (long) d.outFeatures());
                m.put("bias", d.bias());
            } else if (node instanceof GraphNode.Conv2d c) {
                m.put("in_channels", (long) c.inChannels());
                m.put("out_channels", (long) c.outChannels());
                m.put("kernel_size", pair(c.kernel()));
                m.put("stride", pair(c.stride()));
                m.put("padding", pair(c.padding()));
                m.put("dilation", pair(c.dilation()));
                m.put("bias", c.bias());
            } else if (node instanceof GraphNode.Pool2d p) {
                m.put("kernel_size", pair(p.kernel()));
                m.put("stride", pair(p.stride()));
                m.put("padding", pair(p.padding()));
            } else if (node instanceof GraphNode.Embedding e) {
                m.put("num_embeddings", (long) e.numEmbeddings());
                m.put("embedding_dim", (long) e.embeddingDim());
            } else if (node instanceof GraphNode.LayerNorm l) {
                m.put("normalized_shape", (long) l.normalizedShape());
                m.put("eps", l.eps());
                m.put("elementwise_affine", l.affine());
            } else if (node instanceof GraphNode.BatchNorm b) {
                m.put("num_features", (long) b.numFeatures());
                m.put("eps", b.eps());
                m.put("affine", b.affine());
            } else if (node instanceof GraphNode.Dropout d) {
                m.put("p", d.p());
            } else if (node instanceof GraphNode.Mean mean) {
                m.put("axis", (long) mean.axis());
            }
            nodes.add(m);
        }
        root.put("nodes", nodes);
        root.put("loss", graph.loss().jsonName());
        root.put("dtype", graph.dtype().jsonName());
        if (!graph.buffers().isEmpty()) {
            Map<String, Object> buffers = new LinkedHashMap<>();
            graph.buffers().forEach((name, values) -> {
                List<Object> list = new ArrayList<>(values.length);
                for (double v : values) {
                    list.add(v);
                }
                buffers.put(name, list);
            });
            root.put("buffers", buffers);
        }
        return root;
    }

    private static List<Object> pair(GraphNode.Pair p) {
        return List.of((long) p.h(), (long) p.w());
    }

    private static void allowOnly(Map<?, ?> m, String where, Set<String> keys) {
        for (Object k : m.keySet()) {
            if (!keys.contains(String.valueOf(k))) {
                throw new IllegalArgumentException("model spec: " + where + " has the unknown key '" + k
                        + "'; allowed: " + keys);
            }
        }
    }

    private static List<Integer> ints(Object value, String where) {
        if (!(value instanceof List<?> l) || l.isEmpty()) {
            throw new IllegalArgumentException("model spec: " + where + " must be a non-empty array of integers");
        }
        List<Integer> out = new ArrayList<>();
        for (Object o : l) {
            out.add(toInt(o, where));
        }
        return out;
    }

    private static int toInt(Object o, String where) {
        if (!(o instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model spec: " + where + " must be an integer that fits in 32 bits,"
                    + " got " + o);
        }
        return (int) (long) l;
    }

    /** The attributes of one node, with a check that every key was understood. */
    private static final class Attributes {
        private final Map<?, ?> map;
        private final String where;
        private final java.util.Set<String> used = new java.util.HashSet<>(COMMON);

        Attributes(Map<?, ?> map, String where) {
            this.map = map;
            this.where = where;
        }

        int integer(String key) {
            used.add(key);
            if (!map.containsKey(key)) {
                throw new IllegalArgumentException("model spec: " + where + " needs '" + key + "'");
            }
            return toInt(map.get(key), where + "." + key);
        }

        boolean bool(String key, boolean fallback) {
            used.add(key);
            Object v = map.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Boolean b)) {
                throw new IllegalArgumentException("model spec: " + where + "." + key + " must be true or false, got "
                        + v);
            }
            return b;
        }

        double real(String key, double fallback) {
            used.add(key);
            Object v = map.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof Number num)) {
                throw new IllegalArgumentException("model spec: " + where + "." + key + " must be a number, got " + v);
            }
            return num.doubleValue();
        }

        GraphNode.Pair pair(String key, GraphNode.Pair fallback) {
            used.add(key);
            Object v = map.get(key);
            if (v == null) {
                if (fallback == null) {
                    throw new IllegalArgumentException("model spec: " + where + " needs '" + key + "'");
                }
                return fallback;
            }
            if (v instanceof List<?>) {
                List<Integer> hw = ints(v, where + "." + key);
                if (hw.size() != 2) {
                    throw new IllegalArgumentException("model spec: " + where + "." + key
                            + " must be an integer or a pair [h, w], got " + v);
                }
                return new GraphNode.Pair(hw.get(0), hw.get(1));
            }
            return GraphNode.Pair.of(toInt(v, where + "." + key));
        }

        void checkAllUsed() {
            for (Object k : map.keySet()) {
                if (!used.contains(String.valueOf(k))) {
                    throw new IllegalArgumentException("model spec: " + where + " has the unknown attribute '" + k
                            + "'");
                }
            }
        }
    }
}
