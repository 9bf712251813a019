package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.io.data.ArrayDataSource;
import org.influence4j.api.data.Batch;
import org.influence4j.io.Npy;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.backend.testkit.GraphFixture;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TorchScript modules with N-D inputs against PyTorch's own eval-mode outputs (the fixtures
 * {@code torchscript/cnn} and {@code torchscript/embed} of backend-testkit, made by
 * {@code make_fixture.py}): a CNN on {@code [n, 1, 8, 8]} images with BatchNorm (non-trivial
 * running statistics) and Dropout, saved in training mode, and an embedding model on int64 token
 * ids {@code [n, 6]}. Logits, per-sample losses and per-sample gradients equal PyTorch's (float32,
 * 1e-5 relative to each array's largest value); so Dropout is off and BatchNorm uses its running
 * statistics (in training mode the CNN's logits differ by more than 1e-3, which the generator asserts).
 */
class PtTorchScriptFixtureTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"cnn, false", "embed, true"})
    void logitsLossesAndPerSampleGradientsEqualPyTorchs(String name, boolean ids) throws IOException {
        Backend backend = PtBackendProvider.backend();
        ArrayDataSource data = ArrayDataSource.read("x", file(name, "x.npy").toString(), "y",
                file(name, "y.npy").toString(), null);
        Batch batch = data.batch();
        try (TwiceDifferentiable model = backend.loadModel(file(name, "model.pt"), NativeModelOptions.torchScript(
                data.sampleShape(), ids, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             TensorScope scope = backend.newScope()) {
            double[] grads = expected(name, "grads.npy");
            assertEquals(grads.length / batch.size(), model.numParameters());
            PtTorchScriptModelTest.assertClose(expected(name, "logits.npy"), model.forward(batch, scope).toDoubleArray(),
                    name + " logits");
            PtTorchScriptModelTest.assertClose(expected(name, "losses.npy"),
                    model.perSampleLosses(batch, scope).toDoubleArray(), name + " per-sample losses");
            PtTorchScriptModelTest.assertClose(grads, model.perSampleGradients(batch, scope).toDoubleArray(),
                    name + " per-sample gradients");
            if (ids) {
                double[] x = batch.x().clone();
                x[3] = 2.5;
                Batch fractional = new Batch(x, batch.numFeatures(), batch.y(), 1);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.perSampleLosses(fractional, scope));
                assertTrue(e.getMessage().startsWith("batch: feature 3 is 2.5") && e.getMessage().contains("int64"),
                        e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"cnn, true, 'does not accept int64 ids [1, 1, 8, 8]'",
        "embed, false, 'does not accept float32 input [1, 6]'"})
    void theWrongInputKindIsNamedWithTheFile(String name, boolean ids, String message) throws IOException {
        Path pt = file(name, "model.pt");
        ArrayDataSource data = ArrayDataSource.read("x", file(name, "x.npy").toString(), "y",
                file(name, "y.npy").toString(), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PtBackendProvider.backend()
                .loadModel(pt, NativeModelOptions.torchScript(data.sampleShape(), ids, Loss.SOFTMAX_CROSS_ENTROPY,
                        DType.FLOAT32)));
        assertTrue(e.getMessage().contains(message) && e.getMessage().contains(pt.toString()), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    private Path file(String fixture, String file) throws IOException {
        return GraphFixture.torchScriptFile(fixture + "/" + file, dir);
    }

    private double[] expected(String fixture, String file) throws IOException {
        return Npy.read(file(fixture, file)).data();
    }
}
