package org.influence4j.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
                () -> NativeModelOptions.torchScript(0, Loss.MSE, DType.FLOAT32)).getMessage().startsWith("inputShape"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NativeModelOptions.torchScript(new long[0], false,
                Loss.MSE, DType.FLOAT32)).getMessage().startsWith("inputShape"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NativeModelOptions.torchScript(4, null, DType.FLOAT32)).getMessage().startsWith("loss"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NativeModelOptions.torchScript(4, Loss.MSE, null)).getMessage().startsWith("dtype"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new NativeModelOptions(null, new long[] {4}, false, Loss.MSE, DType.FLOAT32)).getMessage()
                .startsWith("format"));
    }

    @Test
    void anImageOrTokenInputKeepsItsShapeAndKind() {
        long[] shape = {1, 28, 28};
        NativeModelOptions images = NativeModelOptions.torchScript(shape, false, Loss.SOFTMAX_CROSS_ENTROPY,
                DType.FLOAT32);
        shape[0] = 3;
        assertArrayEquals(new long[] {1, 28, 28}, images.inputShape(), "copied in");
        images.inputShape()[0] = 5;
        assertArrayEquals(new long[] {1, 28, 28}, images.inputShape(), "copied out");
        assertEquals(784, images.inputDim());
        assertFalse(images.intInput());
        NativeModelOptions ids = NativeModelOptions.torchScript(new long[] {6}, true, Loss.SOFTMAX_CROSS_ENTROPY,
                DType.FLOAT32);
        assertTrue(ids.intInput());
        assertEquals(NativeModelOptions.torchScript(new long[] {6}, true, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32),
                ids);
        assertNotEquals(NativeModelOptions.torchScript(6, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32), ids,
                "float features are not ids");
        assertEquals(NativeModelOptions.torchScript(6, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32).hashCode(),
                NativeModelOptions.torchScript(new long[] {6}, false, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32)
                        .hashCode());
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
