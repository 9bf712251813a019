package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.model.Loss;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.onnx.OnnxModels;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every torch.onnx fixture on every available backend, in float32 and float64: logits, per-sample
 * losses and per-sample gradients equal PyTorch's float32 numbers (relative 1e-5 for values, 1e-4
 * for gradients; the fashion_cnn fixture has no gradients).
 */
class OnnxBackendsTest {

    private static final List<String> FILES = List.of("mlp/model.onnx", "lenet/model.onnx",
            "resnet/model_preserve.onnx", "resnet/model.onnx", "embed_text/model.onnx", "fashion_cnn/model.onnx",
            "layernorm_decomposed/model.onnx");

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            for (String file : FILES) {
                for (DType dtype : DType.values()) {
                    out.add(Arguments.of(backend, file, dtype));
                }
            }
        }
        return out.stream();
    }

    private Path resource(String path) throws IOException {
        return GraphFixture.onnxFile(path, dir);
    }

    private static void assertClose(String what, double[] expected, double[] actual, double tolerance) {
        double err = TestSupport.relErr(actual, expected);
        assertTrue(err < tolerance, what + ": relative error " + err + " ≥ " + tolerance);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void onnxExportsComputeWhatPyTorchComputes(String backendName, String file, DType dtype) throws IOException {
        String name = file.substring(0, file.indexOf('/'));
        OnnxModels.Imported model = OnnxModels.read(resource(file), Loss.SOFTMAX_CROSS_ENTROPY, dtype);
        HostArray x = Npy.read(resource(name + "/x.npy"));
        double[] y = Npy.read(resource(name + "/y.npy")).data();
        Batch batch = new Batch(x.data(), x.data().length / y.length, y, 1);
        Backend backend = BackendDiscovery.load().require(backendName);
        String what = backendName + " " + file + " " + dtype.jsonName();
        try (TwiceDifferentiable m = backend.createModel(model.spec(), model.parameters());
             TensorScope scope = backend.newScope()) {
            assertClose(what + " logits", Npy.read(resource(name + "/logits.npy")).data(),
                    m.forward(batch, scope).toDoubleArray(), 1e-5);
            assertClose(what + " losses", Npy.read(resource(name + "/losses.npy")).data(),
                    m.perSampleLosses(batch, scope).toDoubleArray(), 1e-5);
            if (!name.equals("fashion_cnn") && !file.equals("resnet/model.onnx")) {
                assertClose(what + " per-sample gradients", Npy.read(resource(name + "/grads.npy")).data(),
                        m.perSampleGradients(batch, scope).toDoubleArray(), 1e-4);
            }
        }
    }
}
