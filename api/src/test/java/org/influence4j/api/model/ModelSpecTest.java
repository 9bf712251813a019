package org.influence4j.api.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSpecTest {

    @TempDir
    Path dir;

    private static ModelSpec mlp() {
        return ModelSpec.builder(4).dense(3).activation(Activation.TANH).dense(2)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
    }

    @Test
    void layoutFollowsPyTorchNamedParameters() {
        List<ParameterInfo> layout = mlp().parameterLayout();
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                layout.stream().map(ParameterInfo::name).toList());
        assertArrayEquals(new long[] {3, 4}, layout.get(0).shape());
        assertEquals(12, layout.get(1).offset());
        assertEquals(15, layout.get(2).offset());
        assertEquals(12 + 3 + 6 + 2, mlp().numParameters());
        assertEquals(2, mlp().outputDim());
    }

    @Test
    void jsonRoundTrip() throws IOException {
        ModelSpec spec = mlp();
        assertEquals(spec, ModelSpec.fromJson(spec.toJson()));
        Path f = dir.resolve("spec.json");
        spec.write(f);
        assertEquals(spec, ModelSpec.read(f));
    }

    @Test
    void badJsonNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(
                "{\"inputDim\": 3, \"layers\": [{\"type\": \"dense\", \"units\": 2}], \"loss\": \"hinge\"}"));
        assertTrue(e.getMessage().contains("loss"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.fromJson(
                "{\"inputDim\": 3, \"layers\": [{\"type\": \"conv\"}], \"loss\": \"mse\"}"));
        assertTrue(e.getMessage().contains("layers[0]"), e.getMessage());
        assertThrows(IOException.class, () -> ModelSpec.read(dir.resolve("missing.json")));
    }

    @Test
    void lossAndWidthMustAgree() {
        assertThrows(IllegalArgumentException.class,
                () -> ModelSpec.builder(3).dense(2).loss(Loss.BINARY_LOGISTIC).build());
        assertThrows(IllegalArgumentException.class,
                () -> ModelSpec.builder(3).dense(1).loss(Loss.SOFTMAX_CROSS_ENTROPY).build());
    }

    @Test
    void initialisationIsSeededAndBounded() {
        ModelSpec spec = mlp();
        double[] a = spec.initialParameters(7);
        assertArrayEquals(a, spec.initialParameters(7));
        for (int i = 0; i < 15; i++) {
            assertTrue(Math.abs(a[i]) <= 0.5, "first layer bound is 1/sqrt(4)");
        }
    }

    @Test
    void validateNamesTheProblem() {
        ModelSpec spec = mlp();
        Batch wrongWidth = new Batch(new double[6], 3, new double[2], 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> spec.validate(wrongWidth, "train"));
        assertTrue(e.getMessage().startsWith("train:") && e.getMessage().contains("inputDim=4"), e.getMessage());
        Batch badLabel = new Batch(new double[4], 4, new double[] {2}, 1);
        e = assertThrows(IllegalArgumentException.class, () -> spec.validate(badLabel, "test"));
        assertTrue(e.getMessage().contains("class index"), e.getMessage());
        Batch nan = new Batch(new double[] {0, Double.NaN, 0, 0}, 4, new double[] {1}, 1);
        e = assertThrows(IllegalArgumentException.class, () -> spec.validate(nan, "x"));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> spec.validateParameters(new double[3], "theta"));
        assertTrue(e.getMessage().contains("length 3"), e.getMessage());
    }
}
