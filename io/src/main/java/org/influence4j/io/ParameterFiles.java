package org.influence4j.io;

import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.Json;

/**
 * Reads and writes the flat parameter vector θ of a {@link ModelSpec}.
 *
 * <ul>
 *   <li>{@code *.safetensors}: one tensor per PyTorch name ({@code 0.weight}, {@code 0.bias}, ...)
 *       with its own shape, in {@code named_parameters()} order, so that
 *       {@code model.load_state_dict(safetensors.torch.load_file(f))} works in Python;</li>
 *   <li>{@code *.npy}: the flat vector θ, shape {@code [p]}.</li>
 * </ul>
 * Values are stored in the spec's dtype. Writes are atomic. For a layer graph the safetensors file
 * also holds the buffers (batch-norm running statistics), so a PyTorch {@code state_dict} saved with
 * safetensors is a parameter file as it is ({@link #readState}); {@code num_batches_tracked} entries
 * are ignored.
 */
public final class ParameterFiles {

    private ParameterFiles() {
    }

    /**
     * Writes θ for {@code spec}.
     *
     * @throws IllegalArgumentException if θ does not fit the spec or the extension is unknown
     */
    public static void write(Path file, ModelSpec spec, double[] parameters, Map<String, String> metadata)
            throws IOException {
        spec.validateParameters(parameters, "parameters");
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            Npy.write(file, new HostArray(parameters.clone(), new long[] {parameters.length}, spec.dtype()));
        } else if (name.endsWith(".safetensors")) {
            Map<String, HostArray> tensors = new LinkedHashMap<>();
            for (ParameterInfo info : spec.parameterLayout()) {
                double[] part = Arrays.copyOfRange(parameters, info.offset(), info.offset() + info.size());
                tensors.put(info.name(), new HostArray(part, info.shape(), spec.dtype()));
            }
            if (spec.isGraph()) {
                spec.graph().buffers().forEach((key, values) -> tensors.put(key,
                        new HostArray(values, new long[] {values.length}, spec.dtype())));
            }
            SafeTensors.write(file, tensors, metadata == null ? Map.of() : metadata);
        } else {
            throw new IllegalArgumentException("parameter file: " + file
                    + " has an unknown extension; use .safetensors or .npy");
        }
    }

    /**
     * Reads θ for {@code spec} and checks names, shapes, length and finiteness.
     *
     * @throws IOException naming the file when it is unreadable or does not match the spec
     */
    public static double[] read(Path file, ModelSpec spec) throws IOException {
        return readState(file, spec).parameters();
    }

    /**
     * θ and, for a layer graph, the buffers of a parameter file.
     *
     * @param spec       the spec with the file's buffer values (the given spec when it has none)
     * @param parameters θ
     */
    public record State(ModelSpec spec, double[] parameters) {
    }

    /**
     * Reads θ for {@code spec} and, from a safetensors file of a layer graph, the buffers it holds
     * (e.g. a PyTorch {@code state_dict}); checks names, shapes, length and finiteness.
     *
     * @throws IOException naming the file when it is unreadable or does not match the spec
     */
    public static State readState(Path file, ModelSpec spec) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("parameter file " + file + " does not exist or is not readable");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        double[] theta;
        if (name.endsWith(".npy")) {
            HostArray a = Npy.read(file);
            if (a.shape().length != 1 || a.size() != spec.numParameters()) {
                throw new IOException("parameter file " + file + " holds an array of shape "
                        + Arrays.toString(a.shape()) + " but the model spec needs [" + spec.numParameters() + "]");
            }
            theta = a.data();
        } else if (name.endsWith(".safetensors")) {
            Map<String, HostArray> tensors = new LinkedHashMap<>(SafeTensors.read(file));
            boolean graph = spec.isGraph();
            tensors.keySet().removeIf(key -> graph && key.endsWith(".num_batches_tracked"));
            spec = withBuffers(file, spec, tensors);
            List<ParameterInfo> layout = spec.parameterLayout();
            if (!tensors.keySet().equals(new java.util.LinkedHashSet<>(layout.stream().map(ParameterInfo::name).toList()))) {
                throw new IOException("parameter file " + file + " holds tensors "
                        + Json.oneLine(String.valueOf(tensors.keySet()), 300)
                        + " but the model spec needs " + layout.stream().map(ParameterInfo::name).toList());
            }
            theta = gather(file, tensors, layout);
        } else {
            throw new IOException("parameter file " + file + " has an unknown extension; use .safetensors or .npy");
        }
        try {
            spec.validateParameters(theta, "parameter file " + file);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        return new State(spec, theta);
    }

    /**
     * Reads θ laid out as {@code layout} (e.g. {@code TwiceDifferentiable.parameterLayout()} of an
     * imported engine model) from a safetensors file by name, such as a PyTorch {@code state_dict}
     * saved by a training loop; tensors the layout does not name (buffers such as batch-norm running
     * statistics) are not read.
     *
     * @throws IOException naming the file, and the parameter when one is missing or has another
     *     shape; naming the file when it is not safetensors, unreadable or holds non-finite values
     */
    public static double[] read(Path file, List<ParameterInfo> layout) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("parameter file " + file + " does not exist or is not readable");
        }
        if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            throw new IOException("parameter file " + file + " is read by parameter name and must be .safetensors");
        }
        double[] theta = gather(file, SafeTensors.read(file), layout);
        for (double v : theta) {
            if (!Double.isFinite(v)) {
                throw new IOException("parameter file " + file + " contains NaN or infinite parameters");
            }
        }
        return theta;
    }

    /** @return θ of {@code layout} from the tensors of those names, each checked for its shape */
    private static double[] gather(Path file, Map<String, HostArray> tensors, List<ParameterInfo> layout)
            throws IOException {
        int p = layout.isEmpty() ? 0 : layout.get(layout.size() - 1).offset() + layout.get(layout.size() - 1).size();
        double[] theta = new double[p];
        for (ParameterInfo info : layout) {
            HostArray a = tensors.get(info.name());
            if (a == null) {
                throw new IOException("parameter file " + file + " has no tensor '" + info.name() + "'; the model's"
                        + " parameters are " + Json.oneLine(String.valueOf(layout.stream().map(ParameterInfo::name)
                        .toList()), 300));
            }
            if (!Arrays.equals(a.shape(), info.shape())) {
                throw new IOException("parameter file " + file + ": tensor '" + info.name() + "' has shape "
                        + Arrays.toString(a.shape()) + " but the model needs " + Arrays.toString(info.shape()));
            }
            System.arraycopy(a.data(), 0, theta, info.offset(), info.size());
        }
        return theta;
    }

    /** Moves the graph's buffers out of {@code tensors} into the returned spec. */
    private static ModelSpec withBuffers(Path file, ModelSpec spec, Map<String, HostArray> tensors) throws IOException {
        if (!spec.isGraph()) {
            return spec;
        }
        Map<String, double[]> buffers = new LinkedHashMap<>();
        for (String name : spec.graph().buffers().keySet()) {
            HostArray a = tensors.remove(name);
            if (a != null) {
                buffers.put(name, a.data());
            }
        }
        try {
            return buffers.isEmpty() ? spec : ModelSpec.of(spec.graph().withBuffers(buffers));
        } catch (IllegalArgumentException e) {
            throw new IOException("parameter file " + file + ": " + e.getMessage(), e);
        }
    }
}
