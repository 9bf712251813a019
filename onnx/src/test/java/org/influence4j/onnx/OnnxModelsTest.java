package org.influence4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models exported by {@code torch.onnx.export} (fixtures of
 * {@code backend-testkit/src/test-fixtures/make_onnx_fixtures.py}): read as layer graphs, their
 * outputs, per-sample losses and per-sample gradients equal PyTorch's own (float32 fixtures,
 * relative 1e-5 for values, 1e-4 for gradients, computed here in float64), the parameters equal the
 * module's state_dict by name, and bad files are refused with one-line errors naming the file.
 */
class OnnxModelsTest {

    @TempDir
    Path dir;

    private Path resource(String path) throws IOException {
        return GraphFixture.onnxFile(path, dir);
    }

    private static void assertClose(String what, double[] expected, double[] actual, double tolerance) {
        double err = TestSupport.relErr(actual, expected);
        assertTrue(err < tolerance, what + ": relative error " + err + " ≥ " + tolerance);
    }

    /**
     * {@code resnet/model_preserve.onnx} keeps BatchNormalization nodes ({@code TrainingMode.PRESERVE});
     * {@code fashion_cnn} has no {@code grads.npy} (too large to commit).
     */
    @ParameterizedTest
    @ValueSource(strings = {"mlp/model.onnx", "lenet/model.onnx", "resnet/model_preserve.onnx",
        "embed_text/model.onnx", "fashion_cnn/model.onnx", "layernorm_decomposed/model.onnx"})
    void exportsOfPyTorchComputeWhatPyTorchComputes(String file) throws IOException {
        String name = file.substring(0, file.indexOf('/'));
        OnnxModels.Imported model = OnnxModels.read(resource(file), Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        ParameterFiles.State state = ParameterFiles.readState(resource(name + "/state.safetensors"), model.spec());
        assertArrayEquals(state.parameters(), model.parameters(), 1e-7, name + ": θ = state_dict by name");
        HostArray x = Npy.read(resource(name + "/x.npy"));
        double[] y = Npy.read(resource(name + "/y.npy")).data();
        Batch batch = new Batch(x.data(), x.data().length / y.length, y, 1);
        Backend backend = PtBackendProvider.backend();
        try (TwiceDifferentiable m = backend.createModel(model.spec(), model.parameters());
             TensorScope scope = backend.newScope()) {
            assertClose(name + " logits", Npy.read(resource(name + "/logits.npy")).data(),
                    m.forward(batch, scope).toDoubleArray(), 1e-5);
            assertClose(name + " losses", Npy.read(resource(name + "/losses.npy")).data(),
                    m.perSampleLosses(batch, scope).toDoubleArray(), 1e-5);
            if (!name.equals("fashion_cnn")) {
                assertClose(name + " per-sample gradients", Npy.read(resource(name + "/grads.npy")).data(),
                        m.perSampleGradients(batch, scope).toDoubleArray(), 1e-4);
            }
        }
    }

    /** torch folds BatchNorm into the convolutions by default: the model is the same function, renamed. */
    @Test
    void aResnetWithBatchNormFoldedIntoItsConvolutionsComputesTheSameLogits() throws IOException {
        OnnxModels.Imported model = OnnxModels.read(resource("resnet/model.onnx"), Loss.SOFTMAX_CROSS_ENTROPY,
                DType.FLOAT64);
        HostArray x = Npy.read(resource("resnet/x.npy"));
        double[] y = Npy.read(resource("resnet/y.npy")).data();
        Backend backend = PtBackendProvider.backend();
        try (TwiceDifferentiable m = backend.createModel(model.spec(), model.parameters());
             TensorScope scope = backend.newScope()) {
            assertClose("folded resnet logits", Npy.read(resource("resnet/logits.npy")).data(),
                    m.forward(new Batch(x.data(), x.data().length / y.length, y, 1), scope).toDoubleArray(), 1e-5);
        }
    }

    @Test
    void badFilesAreRefusedNamingTheFileAndTheFix() throws IOException {
        Path inputs = resource("bad/weights_as_inputs.onnx");
        IOException e = assertThrows(IOException.class, () -> OnnxModels.read(inputs, Loss.MSE, DType.FLOAT32));
        assertTrue(e.getMessage().startsWith("ONNX file " + inputs) && e.getMessage().contains(
                "keep_initializers_as_inputs=False"), e.getMessage());
        Path unsupported = resource("bad/two_unsupported_ops.onnx");
        e = assertThrows(IOException.class, () -> OnnxModels.read(unsupported, Loss.MSE, DType.FLOAT32));
        assertTrue(e.getMessage().contains("2 unsupported node(s): ") && e.getMessage().contains("CumSum '")
                && e.getMessage().contains("LeakyRelu '"), e.getMessage());
        Path truncated = resource("bad/truncated.onnx");
        e = assertThrows(IOException.class, () -> OnnxModels.read(truncated, Loss.MSE, DType.FLOAT32));
        assertTrue(e.getMessage().startsWith("ONNX file " + truncated) && e.getMessage().contains("truncated or corrupt")
                && !e.getMessage().contains("setSizeLimit"), e.getMessage());
        Path missing = dir.resolve("missing.onnx");
        e = assertThrows(IOException.class, () -> OnnxModels.read(missing, Loss.MSE, DType.FLOAT32));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        Path garbage = Files.write(dir.resolve("garbage.onnx"), new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 0x7f});
        e = assertThrows(IOException.class, () -> OnnxModels.read(garbage, Loss.MSE, DType.FLOAT32));
        assertTrue(e.getMessage().startsWith("ONNX file " + garbage), e.getMessage());
        List.of(inputs, unsupported, truncated).forEach(p -> assertTrue(Files.exists(p)));
    }

    /** Random byte flips, truncations and insertions of real exports: only documented errors (IOException). */
    @Test
    void fuzzedFilesGiveOnlyDocumentedErrors() throws IOException {
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        int refused = 0;
        for (String name : List.of("mlp", "lenet", "layernorm_decomposed")) {
            byte[] original = Files.readAllBytes(resource(name + "/model.onnx"));
            for (int trial = 0; trial < 300; trial++) {
                byte[] bytes = original.clone();
                int edits = 1 + random.nextInt(8);
                for (int e = 0; e < edits; e++) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
                if (trial % 10 == 0) {
                    bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
                }
                Path file = Files.write(dir.resolve("fuzz.onnx"), bytes);
                try {
                    OnnxModels.read(file, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
                } catch (IOException expected) {
                    assertTrue(expected.getMessage().startsWith("ONNX file " + file), expected.getMessage());
                    refused++;
                }
            }
        }
        assertTrue(refused > 100, "most mutations must be refused, were " + refused);
    }

    /**
     * The Fashion-MNIST CNN exported by torch.onnx and the example's hand-written {@code model.json}
     * are the same model: the same parameter names and shapes, the state_dict loads into both, and
     * outputs and per-sample gradients agree to rounding — so every gradient-based score agrees.
     */
    @Test
    void theFashionCnnExportIsTheExampleModel() throws IOException {
        OnnxModels.Imported onnx = OnnxModels.read(resource("fashion_cnn/model.onnx"), Loss.SOFTMAX_CROSS_ENTROPY,
                DType.FLOAT64);
        ModelSpec example = ModelSpec.read(Path.of("..", "examples", "fashion-mnist-cnn", "model.json"))
                .withDType(DType.FLOAT64);
        assertEquals(example.parameterLayout().stream().map(i -> i.name() + java.util.Arrays.toString(i.shape()))
                .toList(), onnx.spec().parameterLayout().stream().map(i -> i.name()
                + java.util.Arrays.toString(i.shape())).toList());
        double[] theta = ParameterFiles.read(resource("fashion_cnn/state.safetensors"), example);
        assertArrayEquals(theta, onnx.parameters(), 0.0);
        HostArray x = Npy.read(resource("fashion_cnn/x.npy"));
        double[] y = Npy.read(resource("fashion_cnn/y.npy")).data();
        Batch batch = new Batch(x.data(), 784, y, 1);
        Backend backend = PtBackendProvider.backend();
        try (TwiceDifferentiable a = backend.createModel(onnx.spec(), onnx.parameters());
             TwiceDifferentiable b = backend.createModel(example, theta);
             TensorScope scope = backend.newScope()) {
            assertClose("logits", b.forward(batch, scope).toDoubleArray(), a.forward(batch, scope).toDoubleArray(),
                    1e-12);
            assertClose("per-sample gradients", b.perSampleGradients(batch, scope).toDoubleArray(),
                    a.perSampleGradients(batch, scope).toDoubleArray(), 1e-12);
        }
    }
}
