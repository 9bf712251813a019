package org.influence4j.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.junit.jupiter.api.Test;

/** The native-model request of {@link Backend#loadModel}: validation and the default refusal. */
class NativeModelOptionsTest {

    /** A backend that reads no native format (uses the default {@code loadModel}). */
    private static final Backend SPEC_ONLY = new Backend() {
        @Override
        public String name() {
            return "spec-only";
        }

        @Override
        public String version() {
            return "1";
        }

        @Override
        public Set<BackendCapability> capabilities() {
            return Set.of(BackendCapability.FLOAT64);
        }

        @Override
        public TensorScope newScope() {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
            throw new UnsupportedOperationException("not needed here");
        }
    };

    @Test
    void componentsAreValidatedByName() {
        NativeModelOptions o = NativeModelOptions.torchScript(4, Loss.MSE, DType.FLOAT32);
        assertEquals(NativeModelFormat.TORCHSCRIPT, o.format());
        assertEquals(BackendCapability.TORCHSCRIPT, o.format().capability());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NativeModelOptions.torchScript(0, Loss.MSE, DType.FLOAT32)).getMessage().startsWith("inputDim"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NativeModelOptions.torchScript(4, null, DType.FLOAT32)).getMessage().startsWith("loss"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NativeModelOptions.torchScript(4, Loss.MSE, null)).getMessage().startsWith("dtype"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new NativeModelOptions(null, 4, Loss.MSE, DType.FLOAT32)).getMessage().startsWith("format"));
    }

    @Test
    void aBackendWithoutTheCapabilityRefusesNamingItselfAndTheFormat() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> SPEC_ONLY.loadModel(
                Path.of("model.pt"), NativeModelOptions.torchScript(4, Loss.MSE, DType.FLOAT32)));
        assertTrue(e.getMessage().contains("spec-only") && e.getMessage().contains("TorchScript")
                && e.getMessage().contains("TORCHSCRIPT"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SPEC_ONLY.loadModel(Path.of("model.pt"), null));
    }
}
