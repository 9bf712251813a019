package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.influence.DirectInfluence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a clear exception naming the argument, on the real backend. */
class BadInputTest {

    private static Backend backend;
    private static BreastCancerFixture data;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        backend = new PtBackendProvider().create();
        data = new BreastCancerFixture(0);
    }

    private static void assertMessage(Class<? extends Throwable> type, Executable call, String... parts) {
        Throwable e = assertThrows(type, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    private TwiceDifferentiable model() {
        return backend.createModel(BreastCancerFixture.SPEC, BreastCancerFixture.SPEC.initialParameters(0));
    }

    @Test
    void xAndYLengthMismatch() {
        assertMessage(IllegalArgumentException.class,
                () -> Batch.of(new double[][] {{1, 2}, {3, 4}}, new double[] {1}), "same number of rows");
    }

    @Test
    void wrongFeatureCount() {
        Batch narrow = new Batch(new double[29 * 2], 29, new double[] {0, 1}, 1);
        try (TwiceDifferentiable model = model()) {
            assertMessage(IllegalArgumentException.class, () -> model.loss(narrow), "29", "inputDim=30");
            try (DirectInfluence influence = new DirectInfluence(model, 0.01)) {
                assertMessage(IllegalArgumentException.class,
                        () -> influence.fit(new InMemoryDataSource(narrow)), "inputDim=30");
            }
        }
    }

    @Test
    void nanOrInfInDataOrParameters() {
        double[] x = data.train.slice(0, 2).x().clone();
        x[3] = Double.NaN;
        Batch nan = new Batch(x, 30, new double[] {0, 1}, 1);
        try (TwiceDifferentiable model = model(); TensorScope scope = backend.newScope()) {
            assertMessage(IllegalArgumentException.class, () -> model.gradient(nan, scope), "NaN");
            double[] theta = model.parameters();
            theta[5] = Double.POSITIVE_INFINITY;
            assertMessage(IllegalArgumentException.class, () -> model.setParameters(theta), "parameter 5", "finite");
        }
        double[] theta = BreastCancerFixture.SPEC.initialParameters(0);
        theta[0] = Double.NaN;
        assertMessage(IllegalArgumentException.class, () -> backend.createModel(BreastCancerFixture.SPEC, theta),
                "parameter 0");
    }

    @Test
    void unfittedModel() {
        try (TwiceDifferentiable model = model();
             DirectInfluence influence = new DirectInfluence(model, 0.01);
             TensorScope scope = backend.newScope()) {
            assertMessage(IllegalStateException.class,
                    () -> influence.influences(data.test, data.train, InfluenceMode.UP, scope), "fit");
        }
    }

    @Test
    void negativeLambda() {
        try (TwiceDifferentiable model = model()) {
            assertMessage(IllegalArgumentException.class, () -> new DirectInfluence(model, -0.1),
                    "hessianRegularization");
        }
    }

    @Test
    void parameterVectorOfWrongLength() {
        assertMessage(IllegalArgumentException.class, () -> backend.createModel(BreastCancerFixture.SPEC, new double[30]),
                "length 30", "31");
        try (TwiceDifferentiable model = model()) {
            assertMessage(IllegalArgumentException.class, () -> model.setParameters(new double[32]), "length 32");
        }
    }

    @Test
    void unreadableSpecOrParameterFile() throws IOException {
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, "{\"inputDim\": 30, \"layers\": [");
        assertMessage(IOException.class, () -> ModelSpec.read(spec), "spec.json");
        assertMessage(IOException.class, () -> ModelSpec.read(dir.resolve("absent.json")), "absent.json");
        Path params = dir.resolve("params.safetensors");
        Files.write(params, new byte[] {1, 2, 3});
        assertMessage(IOException.class, () -> ParameterFiles.read(params, BreastCancerFixture.SPEC), "params.safetensors");
        Path truncated = dir.resolve("theta.npy");
        ParameterFiles.write(truncated, BreastCancerFixture.SPEC, BreastCancerFixture.SPEC.initialParameters(0), null);
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 16));
        assertMessage(IOException.class, () -> ParameterFiles.read(truncated, BreastCancerFixture.SPEC), "truncated");
    }
}
