package org.influence4j.api.model;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;

/**
 * A portable description of a sequential model: input width, layers, loss and dtype. The same
 * spec and flat parameter vector give the same function on every backend.
 *
 * <p><b>Parameter layout.</b> Layers are numbered like PyTorch's {@code nn.Sequential} (activations
 * count). Each {@link Layer.Dense} at index i contributes {@code i.weight} {@code [out, in]}
 * (row-major) then {@code i.bias} {@code [out]} — exactly {@code named_parameters()} order.
 *
 * <p><b>JSON form.</b>
 * <pre>{@code
 * {"inputDim": 64, "layers": [{"type": "dense", "units": 32}, {"type": "activation", "name": "tanh"},
 *   {"type": "dense", "units": 10}], "loss": "softmax_cross_entropy", "dtype": "float64"}
 * }</pre>
 *
 * <p><b>Layer graphs.</b> A spec may instead wrap a {@link ModelGraph} (format 2: convolutions,
 * embeddings, normalisation, residual connections; see {@link ModelGraphJson}); then
 * {@link #layers()} is empty, {@link #inputDim()} is the number of values per sample
 * ({@link ModelGraph#inputSize()}) and the layout, output width, validation and JSON form are the
 * graph's. {@link #fromJson} reads both formats.
 *
 * @param inputDim number of input features (values per sample for a graph)
 * @param layers   the layers in order (widths must chain; the first Dense takes {@code inputDim});
 *                 empty for a graph
 * @param loss     the per-sample loss
 * @param dtype    the precision of the model
 * @param graph    the layer graph, or null for a format-1 sequential spec
 */
public record ModelSpec(int inputDim, List<Layer> layers, Loss loss, DType dtype, ModelGraph graph) {

    /** A format-1 sequential spec of Dense layers and activations. */
    public ModelSpec(int inputDim, List<Layer> layers, Loss loss, DType dtype) {
        this(inputDim, layers, loss, dtype, null);
    }

    public ModelSpec {
        if (loss == null || dtype == null) {
            throw new IllegalArgumentException("loss and dtype must not be null");
        }
        if (graph != null) {
            if (layers == null || !layers.isEmpty() || inputDim != graph.inputSize() || loss != graph.loss()
                    || dtype != graph.dtype()) {
                throw new IllegalArgumentException("graph: a graph spec is made with ModelSpec.of(graph)");
            }
            layers = List.of();
        } else {
            layers = checkLayers(inputDim, layers, loss);
        }
    }

    private static List<Layer> checkLayers(int inputDim, List<Layer> given, Loss loss) {
        if (inputDim <= 0) {
            throw new IllegalArgumentException("inputDim: must be positive, got " + inputDim);
        }
        if (given == null || given.isEmpty()) {
            throw new IllegalArgumentException("layers: a model needs at least one dense layer");
        }
        List<Layer> layers = List.copyOf(given);
        int width = inputDim;
        boolean anyDense = false;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Layer.Act a && a.activation() == Activation.GELU) {
                throw new IllegalArgumentException("layers[" + i + "]: gelu needs a format-2 layer graph"
                        + " (\"format\": 2)");
            }
            if (layers.get(i) instanceof Layer.Dense d) {
                if (d.inFeatures() != width) {
                    throw new IllegalArgumentException("layers[" + i + "]: dense layer takes " + d.inFeatures()
                            + " inputs but the previous width is " + width);
                }
                width = d.outFeatures();
                anyDense = true;
            }
        }
        if (!anyDense) {
            throw new IllegalArgumentException("layers: a model needs at least one dense layer");
        }
        long p = 0;
        for (Layer l : layers) {
            if (l instanceof Layer.Dense d) {
                p += d.numParameters(); // below 2^62 + 2^31, added to p <= 2^31 - 1: no overflow
                if (p > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("layers: the model has more than 2^31 - 1 parameters (the"
                            + " largest flat parameter vector); make the dense layers smaller");
                }
            }
        }
        ModelGraph.checkLossWidth(loss, width);
        return layers;
    }

    /** @return a spec that wraps a layer graph */
    public static ModelSpec of(ModelGraph graph) {
        return new ModelSpec(graph.inputSize(), List.of(), graph.loss(), graph.dtype(), graph);
    }

    /**
     * @return the Dense layers whose per-sample gradients factor into layer inputs and output
     *     gradients ({@link org.influence4j.api.TwiceDifferentiable#denseLayerFactors}), in order: every
     *     Dense layer of a format-1 spec; for a graph its {@link ModelGraph#factorLayers()}
     */
    public List<Layer.Dense> denseLayers() {
        if (graph == null) {
            return layers.stream().filter(l -> l instanceof Layer.Dense).map(l -> (Layer.Dense) l).toList();
        }
        List<String> names = graph.factorLayers();
        return graph.nodes().stream().filter(node -> names.contains(node.name()))
                .map(node -> (GraphNode.Dense) node)
                .map(d -> new Layer.Dense(d.inFeatures(), d.outFeatures())).toList();
    }

    /** @return whether this spec wraps a {@link ModelGraph} (format 2) rather than Dense layers */
    public boolean isGraph() {
        return graph != null;
    }

    /** Starts a builder for a model with {@code inputDim} inputs. */
    public static Builder builder(int inputDim) {
        return new Builder(inputDim);
    }

    /** @return the width of the last layer */
    public int outputDim() {
        if (graph != null) {
            return graph.outputDim();
        }
        int width = inputDim;
        for (Layer l : layers) {
            if (l instanceof Layer.Dense d) {
                width = d.outFeatures();
            }
        }
        return width;
    }

    /** @return p, the length of the flat parameter vector */
    public int numParameters() {
        if (graph != null) {
            return graph.numParameters();
        }
        long p = 0;
        for (Layer l : layers) {
            if (l instanceof Layer.Dense d) {
                p += d.numParameters();
            }
        }
        if (p > Integer.MAX_VALUE) {
            throw new IllegalStateException("model has more than 2^31 parameters");
        }
        return (int) p;
    }

    /** @return the named parameter tensors in flat-vector order */
    public List<ParameterInfo> parameterLayout() {
        if (graph != null) {
            return graph.parameterLayout();
        }
        List<ParameterInfo> out = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Layer.Dense d) {
                ParameterInfo w = new ParameterInfo(i + ".weight", new long[] {d.outFeatures(), d.inFeatures()},
                        offset, i);
                offset += w.size();
                ParameterInfo b = new ParameterInfo(i + ".bias", new long[] {d.outFeatures()}, offset, i);
                offset += b.size();
                out.add(w);
                out.add(b);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * PyTorch's default initialisation of {@code nn.Linear}: weights and biases uniform in
     * {@code [-1/√in, 1/√in]}, drawn from a seeded generator (the same numbers on every backend).
     */
    public double[] initialParameters(long seed) {
        if (graph != null) {
            return graph.initialParameters(seed);
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] theta = new double[numParameters()];
        for (ParameterInfo info : parameterLayout()) {
            Layer.Dense d = (Layer.Dense) layers.get(info.layerIndex());
            double bound = 1.0 / Math.sqrt(d.inFeatures());
            for (int k = 0; k < info.size(); k++) {
                theta[info.offset() + k] = random.nextDouble(-bound, bound);
            }
        }
        return theta;
    }

    /** @return the same model in another precision */
    public ModelSpec withDType(DType newDType) {
        if (graph != null) {
            return of(graph.withDType(newDType));
        }
        return new ModelSpec(inputDim, layers, loss, newDType);
    }

    /**
     * Checks that a batch fits this model: x is {@code [n, inputDim]}, y has n rows of the right
     * kind for the loss, every value is finite, class labels are integers in range.
     *
     * @param argument the name used in error messages (e.g. {@code "train"})
     * @throws IllegalArgumentException naming {@code argument} and the problem
     */
    public void validate(Batch batch, String argument) {
        if (batch == null) {
            throw new IllegalArgumentException(argument + ": batch must not be null");
        }
        if (batch.numFeatures() != inputDim) {
            throw new IllegalArgumentException(argument + ": x has " + batch.numFeatures()
                    + " features per sample but the model spec expects " + (graph == null ? "inputDim=" + inputDim
                    : inputDim + " (input shape " + java.util.Arrays.toString(graph.inputShape()) + ")"));
        }
        if (graph != null && graph.intInput()) {
            HostArray x = batch.features();
            int limit = graph.vocabularyLimit();
            for (int i = 0, n = x.size(); i < n; i++) {
                double id = x.get(i);
                if (id != Math.rint(id) || id < 0 || id >= limit) {
                    throw new IllegalArgumentException(argument + ": token id x[" + i / inputDim + "]["
                            + i % inputDim + "]=" + (x.storage() == HostArray.Storage.INT64 ? String.valueOf(x.longs()[i])
                            : String.valueOf(id)) + " is not an id in [0, " + limit + ") of the model's embedding");
                }
            }
        }
        int n = batch.size();
        double[] y = batch.y();
        int yWidth = batch.labelWidth();
        switch (loss) {
            case MSE -> {
                if (yWidth != outputDim()) {
                    throw new IllegalArgumentException(argument + ": y has " + yWidth
                            + " targets per sample but the model has " + outputDim() + " outputs (mse)");
                }
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                if (yWidth != 1) {
                    throw new IllegalArgumentException(argument + ": y must hold one class index per sample"
                            + " for softmax_cross_entropy, got " + yWidth + " values per sample");
                }
                int classes = outputDim(); // a layer graph's is a look-up that hashes the graph
                for (int i = 0; i < n; i++) {
                    double c = y[i];
                    if (c != Math.rint(c) || c < 0 || c >= classes) {
                        throw new IllegalArgumentException(argument + ": y[" + i + "]=" + c
                                + " is not a class index in [0, " + classes + ")");
                    }
                }
            }
            case BINARY_LOGISTIC -> {
                if (yWidth != 1) {
                    throw new IllegalArgumentException(argument + ": y must hold one label per sample for"
                            + " binary_logistic, got " + yWidth + " values per sample");
                }
                for (int i = 0; i < n; i++) {
                    if (!(y[i] >= 0 && y[i] <= 1)) {
                        throw new IllegalArgumentException(argument + ": y[" + i + "]=" + y[i]
                                + " is not a label in [0, 1] (binary_logistic)");
                    }
                }
            }
            default -> throw new IllegalStateException("unknown loss " + loss);
        }
        batch.requireFinite(argument);
    }

    /**
     * Checks a flat parameter vector against this spec.
     *
     * @throws IllegalArgumentException if its length is not {@link #numParameters()} or a value is NaN/Inf
     */
    public void validateParameters(double[] parameters, String argument) {
        if (parameters == null) {
            throw new IllegalArgumentException(argument + ": parameter vector must not be null");
        }
        if (parameters.length != numParameters()) {
            throw new IllegalArgumentException(argument + ": parameter vector has length " + parameters.length
                    + " but the model spec has " + numParameters() + " parameters");
        }
        for (int i = 0; i < parameters.length; i++) {
            if (!Double.isFinite(parameters[i])) {
                throw new IllegalArgumentException(argument + ": parameter " + i + " is " + parameters[i]
                        + "; parameters must be finite");
            }
        }
    }

    /** @return the JSON form (see the class comment) */
    public String toJson() {
        if (graph != null) {
            return Json.write(ModelGraphJson.toJson(graph));
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("inputDim", inputDim);
        List<Object> ls = new ArrayList<>();
        for (Layer l : layers) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (l instanceof Layer.Dense d) {
                m.put("type", "dense");
                m.put("units", d.outFeatures());
            } else if (l instanceof Layer.Act a) {
                m.put("type", "activation");
                m.put("name", a.activation().jsonName());
            }
            ls.add(m);
        }
        root.put("layers", ls);
        root.put("loss", loss.jsonName());
        root.put("dtype", dtype.jsonName());
        return Json.write(root);
    }

    /**
     * Parses the JSON form. Bounded on untrusted text: {@link Json}'s length and nesting limits apply,
     * every integer must fit in 32 bits, and the sizes it implies (values per sample of every node,
     * the parameter count) must fit in a Java array.
     *
     * @throws IllegalArgumentException (never a subclass) with a one-line message naming the
     *     offending field
     */
    public static ModelSpec fromJson(String json) {
        try {
            return parse(json);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage() == null ? "model spec: invalid" : e.getMessage();
            String line = Json.oneLine(message, 1000);
            if (e.getClass() == IllegalArgumentException.class && line.equals(message)) {
                throw e;
            }
            throw new IllegalArgumentException(line, e);
        }
    }

    private static ModelSpec parse(String json) {
        Object parsed = Json.parse(json);
        if (!(parsed instanceof Map<?, ?> root)) {
            throw new IllegalArgumentException("model spec: the JSON document must be an object");
        }
        Object format = root.get("format");
        if (format != null && !Long.valueOf(1).equals(format)) {
            if (!Long.valueOf(2).equals(format)) {
                throw new IllegalArgumentException("model spec: 'format' must be 1 (Dense layers) or 2 (layer graph),"
                        + " got " + format);
            }
            return of(ModelGraphJson.fromJson(root));
        }
        Builder b = builder(number(root, "inputDim"));
        Object layers = root.get("layers");
        if (!(layers instanceof List<?> list)) {
            throw new IllegalArgumentException("model spec: 'layers' must be an array");
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("model spec: layers[" + i + "] must be an object");
            }
            String type = String.valueOf(m.get("type"));
            switch (type) {
                case "dense" -> b.dense(number(m, "units"));
                case "activation" -> b.activation(Activation.parse(String.valueOf(m.get("name"))));
                default -> throw new IllegalArgumentException("model spec: layers[" + i + "].type '" + type
                        + "' is unknown; use dense or activation");
            }
        }
        Object loss = root.get("loss");
        if (loss == null) {
            throw new IllegalArgumentException("model spec: 'loss' is missing");
        }
        b.loss(Loss.parse(String.valueOf(loss)));
        Object dtype = root.get("dtype");
        b.dtype(dtype == null ? DType.FLOAT32 : DType.parse(String.valueOf(dtype)));
        return b.build();
    }

    private static int number(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model spec: '" + key + "' must be an integer that fits in 32 bits,"
                    + " got " + v);
        }
        return (int) (long) l;
    }

    /**
     * Reads a JSON spec file (UTF-8, at most {@link Json#MAX_LENGTH} bytes), as {@link #fromJson}.
     *
     * @throws IOException with a one-line message naming the file if it cannot be read, is not UTF-8
     *     or is not a valid spec
     */
    public static ModelSpec read(Path file) throws IOException {
        String text;
        try {
            if (Files.size(file) > Json.MAX_LENGTH) {
                throw new IOException("model spec file " + file + " has " + Files.size(file) + " bytes, more than the "
                        + Json.MAX_LENGTH + " a spec may have");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IOException("model spec file " + file + " is not UTF-8 text", e);
        } catch (NoSuchFileException e) {
            throw new IOException("model spec file " + file + " does not exist", e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("model spec file ")) {
                throw e;
            }
            throw new IOException("model spec file " + file + " cannot be read: " + Json.oneLine(e.toString(), 200), e);
        }
        try {
            return fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("model spec file " + file + " is invalid: " + e.getMessage(), e);
        }
    }

    /** Writes the JSON form atomically. */
    public void write(Path file) throws IOException {
        byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /** Fluent construction of a {@link ModelSpec}; Dense input widths are inferred. */
    public static final class Builder {
        private final int inputDim;
        private final List<Layer> layers = new ArrayList<>();
        private int width;
        private Loss loss = Loss.MSE;
        private DType dtype = DType.FLOAT32;

        private Builder(int inputDim) {
            if (inputDim <= 0) {
                throw new IllegalArgumentException("inputDim: must be positive, got " + inputDim);
            }
            this.inputDim = inputDim;
            this.width = inputDim;
        }

        /** Appends a Dense layer with {@code units} outputs. */
        public Builder dense(int units) {
            layers.add(new Layer.Dense(width, units));
            width = units;
            return this;
        }

        /** Appends an activation. */
        public Builder activation(Activation activation) {
            layers.add(new Layer.Act(activation));
            return this;
        }

        /** Sets the loss (default MSE). */
        public Builder loss(Loss value) {
            this.loss = value;
            return this;
        }

        /** Sets the dtype (default float32). */
        public Builder dtype(DType value) {
            this.dtype = value;
            return this;
        }

        /** @return the validated spec */
        public ModelSpec build() {
            return new ModelSpec(inputDim, layers, loss, dtype);
        }
    }
}
