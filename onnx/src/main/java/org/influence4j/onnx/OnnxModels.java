package org.influence4j.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import onnx.Onnx;
import org.influence4j.api.DType;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.nd4j.shade.protobuf.CodedInputStream;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;

/**
 * Reads a model exported by {@code torch.onnx.export} into a layer graph ({@link ModelSpec#isGraph()})
 * with its parameters, so that it runs on every backend.
 *
 * <p><b>What is read.</b> Opsets 13–18 with a dynamic (or fixed) batch axis; the ops Gemm, MatMul
 * (+ Add of a bias), Conv, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (to
 * {@code [batch, features]}), Relu, Tanh, Sigmoid, Softplus, Gelu and its Erf pattern,
 * BatchNormalization (inference), LayerNormalization and its decomposed pattern (ReduceMean, Sub,
 * Pow, Add, Sqrt, Div, Mul, Add), Gather on an initializer (embedding), Add of two values
 * (residual), ReduceMean over one axis or over H and W, Dropout and Identity. Parameters come from
 * the initializers under their PyTorch names ({@code 0.weight}, {@code layer1.0.conv1.weight}), so a
 * safetensors {@code state_dict} or checkpoint of the same module loads by name; a weight torch
 * exported transposed for MatMul is transposed back and named after its bias.
 *
 * <p><b>What is refused</b> (an {@link IOException} naming the file, and no other exception): a
 * truncated, malformed or oversized file; ops outside the set above (all of them listed with their
 * node names, nothing computed); weights given as graph inputs instead of initializers (with how
 * to export); a graph whose structure is broken (an {@link IOException} saying it is malformed).
 */
public final class OnnxModels {

    /** The largest file read: protobuf's own limit. */
    public static final long MAX_BYTES = Integer.MAX_VALUE;

    private OnnxModels() {
    }

    /**
     * A model read from ONNX.
     *
     * @param spec       the layer graph, with the buffers (batch-norm running statistics)
     * @param parameters θ in the graph's parameter layout
     */
    public record Imported(ModelSpec spec, double[] parameters) {
    }

    /**
     * @param file  an {@code .onnx} file
     * @param loss  the loss to attach to the outputs (ONNX has none)
     * @param dtype the precision to run the model in
     * @throws IOException naming the file when it cannot be read or converted
     */
    public static Imported read(Path file, Loss loss, DType dtype) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("ONNX file " + file + " does not exist");
        }
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new IOException("ONNX file " + file + " has " + size + " bytes, more than the " + MAX_BYTES
                    + " protobuf can read; export the weights as external data is not supported either");
        }
        Onnx.ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit((int) Math.min(Integer.MAX_VALUE, size + 1));
            model = Onnx.ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            // the size limit is the file's own length: protobuf's advice to raise it would be wrong here
            String why = e.getMessage() != null && e.getMessage().contains("setSizeLimit")
                    ? "a field claims more bytes than the file's " + size + " bytes" : e.getMessage();
            throw new IOException("ONNX file " + file + " is not a valid ONNX model (truncated or corrupt): " + why, e);
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new IOException("ONNX file " + file + " holds no graph; is it an ONNX model?");
        }
        try {
            return new OnnxConverter(model.getGraph()).convert(loss, dtype);
        } catch (IllegalArgumentException e) {
            throw new IOException("ONNX file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // a structurally broken graph the checks above did not anticipate (hostile or fuzzed input)
            throw new IOException("ONNX file " + file + " is malformed: " + e, e);
        }
    }
}
