package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.api.model.ParameterInfo;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript fixture {@code torchscript/tiny-mlp.pt} (made by {@code make_fixture.py} beside it:
 * {@code Sequential(Linear(4,3), Tanh(), Linear(3,2))}, float32) against the equivalent
 * {@link ModelSpec} on {@link PtModel} with the same parameters: losses, gradients, per-sample
 * gradients and exact Hessian-vector products agree to float32 precision.
 */
class PtTorchScriptModelTest {

    static final ModelSpec EQUIVALENT = ModelSpec.builder(4).dense(3).activation(Activation.TANH).dense(2)
            .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT32).build();

    static Path fixture() throws URISyntaxException {
        return Path.of(PtTorchScriptModelTest.class.getResource("/torchscript/tiny-mlp.pt").toURI());
    }

    static Batch batch(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * 4];
        double[] y = new double[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble(-2, 2);
        }
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(2);
        }
        return new Batch(x, 4, y, 1);
    }

    static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * scale, what + " [" + i + "]");
        }
    }

    @Test
    void matchesTheEquivalentModelSpecIncludingExactHessianVectorProducts() throws Exception {
        PtBackend backend = PtBackendProvider.backend();
        Batch batch = batch(16, 3);
        try (PtTorchScriptModel script = PtTorchScriptModel.load(backend, fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             TwiceDifferentiable spec = backend.createModel(EQUIVALENT, script.parameters());
             TensorScope scope = backend.newScope()) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), script.parameterLayout().stream().map(ParameterInfo::name).toList());
            assertEquals(EQUIVALENT.numParameters(), script.numParameters());
            assertEquals(0.03492254018783569, script.parameters()[0], 1e-7, "first weight as printed by make_fixture.py");
            assertEquals(2, script.spec().outputDim());
            assertEquals(spec.loss(batch), script.loss(batch), 1e-6);
            assertClose(spec.forward(batch, scope).toDoubleArray(), script.forward(batch, scope).toDoubleArray(), "forward");
            assertClose(spec.gradient(batch, scope).toDoubleArray(), script.gradient(batch, scope).toDoubleArray(),
                    "gradient");
            assertClose(spec.perSampleGradients(batch, scope).toDoubleArray(),
                    script.perSampleGradients(batch, scope).toDoubleArray(), "per-sample gradients");
            assertClose(spec.hessian(batch, scope).toDoubleArray(), script.hessian(batch, scope).toDoubleArray(),
                    "hessian");
            double[] v = new double[script.numParameters()];
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.sin(i + 1.0);
            }
            assertClose(spec.hvp(batch, scope.fromArray(v, DType.FLOAT32, v.length), scope).toDoubleArray(),
                    script.hvp(batch, scope.fromArray(v, DType.FLOAT32, v.length), scope).toDoubleArray(), "hvp");
        }
    }

    @Test
    void theBackendLoadsTorchScriptThroughTheSpi() throws Exception {
        Backend backend = PtBackendProvider.backend();
        assertTrue(backend.capabilities().contains(BackendCapability.TORCHSCRIPT));
        Batch batch = batch(8, 4);
        try (TwiceDifferentiable viaSpi = backend.loadModel(fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             PtTorchScriptModel direct = PtTorchScriptModel.load(backend, fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             TensorScope scope = backend.newScope()) {
            assertTrue(viaSpi instanceof PtTorchScriptModel, viaSpi.getClass().getName());
            assertArrayEquals(direct.parameters(), viaSpi.parameters());
            assertArrayEquals(direct.gradient(batch, scope).toDoubleArray(), viaSpi.gradient(batch, scope).toDoubleArray());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.loadModel(
                Path.of("missing.pt"), NativeModelOptions.torchScript(4, Loss.MSE, DType.FLOAT32)));
        assertTrue(e.getMessage().contains("missing.pt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NativeModelOptions.torchScript(0, Loss.MSE, DType.FLOAT32));
    }

    @Test
    void setParametersChangesTheModuleAndBadFilesAreNamed() throws Exception {
        PtBackend backend = PtBackendProvider.backend();
        try (PtTorchScriptModel script = PtTorchScriptModel.load(backend, fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32))) {
            double[] theta = script.parameters();
            for (int i = 0; i < theta.length; i++) {
                theta[i] = 0.25 * (i % 5) - 0.5;
            }
            script.setParameters(theta);
            assertArrayEquals(theta, script.parameters(), 1e-7);
            Batch batch = batch(5, 9);
            try (TwiceDifferentiable spec = backend.createModel(EQUIVALENT, theta)) {
                assertEquals(spec.loss(batch), script.loss(batch), 1e-6);
            }
            TensorScope closed = backend.newScope();
            closed.close();
            IllegalStateException closedScope = assertThrows(IllegalStateException.class,
                    () -> script.gradient(batch, closed));
            assertTrue(closedScope.getMessage().startsWith("scope: is closed"), closedScope.getMessage());
        }
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> PtTorchScriptModel.load(backend, Path.of("no-such.pt"),
                NativeModelOptions.torchScript(4, Loss.MSE, DType.FLOAT32)));
        assertTrue(missing.getMessage().contains("no-such.pt"), missing.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> PtTorchScriptModel.load(backend, fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64)));
        assertTrue(dtype.getMessage().contains("float64"), dtype.getMessage());
    }

    /** Eval mode: Dropout is off (the same scores as without it) and BatchNorm uses its running statistics. */
    @Test
    void modulesRunInEvalMode() throws Exception {
        Backend backend = PtBackendProvider.backend();
        Batch b = batch(8, 31);
        Path dropout = Path.of(PtTorchScriptModelTest.class.getResource("/torchscript/tiny-mlp-dropout.pt").toURI());
        Path bn = Path.of(PtTorchScriptModelTest.class.getResource("/torchscript/tiny-bn.pt").toURI());
        try (PtTorchScriptModel plain = PtTorchScriptModel.load(backend, fixture(),
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             PtTorchScriptModel withDropout = PtTorchScriptModel.load(backend, dropout,
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             PtTorchScriptModel withBn = PtTorchScriptModel.load(backend, bn,
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32));
             TensorScope scope = backend.newScope()) {
            assertClose(plain.perSampleLosses(b, scope).toDoubleArray(),
                    withDropout.perSampleLosses(b, scope).toDoubleArray(), "losses with Dropout in eval mode");
            assertClose(plain.perSampleGradients(b, scope).toDoubleArray(),
                    withDropout.perSampleGradients(b, scope).toDoubleArray(), "gradients with Dropout in eval mode");
            assertClose(plain.hessian(b, scope).toDoubleArray(), withDropout.hessian(b, scope).toDoubleArray(),
                    "Hessian with Dropout in eval mode (so influence scores are the same)");
            double[] together = withBn.perSampleLosses(b, scope).toDoubleArray();
            for (int i = 0; i < b.size(); i++) {
                double alone = withBn.perSampleLosses(b.slice(i, i + 1), scope).toDoubleArray()[0];
                assertEquals(together[i], alone, 1e-6 * Math.abs(alone), "BatchNorm uses running statistics");
            }
        }
    }
}
