package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.testkit.GraphFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compare} with no {@code --backends} runs every backend: djl-pytorch, djl-tf and nd4j, each
 * loaded from its plugin folder (surefire sets {@code -Dinfluence4j.backends} to the source tree's
 * {@code backend-*}{@code /target/backends}), on the bundled digits with a float64 softmax regression
 * (convex, so H + λI is positive definite at any parameters): three different backends run and their
 * exact (Direct) influences agree to 1e-9 relative to the largest value.
 */
class CompareCommandTest {

    @TempDir
    static Path dir;

    static Path spec;
    static Path parameters;
    static Path train;
    static Path test;

    @BeforeAll
    static void writeInputs() throws IOException {
        Batch digits = BundledDatasets.standardize(BundledDatasets.digits());
        ModelSpec modelSpec = ModelSpec.builder(digits.numFeatures()).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        spec = Files.writeString(dir.resolve("spec.json"), modelSpec.toJson());
        SplittableRandom r = new SplittableRandom(11);
        double[] theta = new double[modelSpec.numParameters()];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 0.1 * r.nextDouble(-1, 1);
        }
        parameters = dir.resolve("params.npy");
        ParameterFiles.write(parameters, modelSpec, theta, Map.of());
        train = SubcommandsTest.writeCsv(dir.resolve("train.csv"), digits.slice(0, 200));
        test = SubcommandsTest.writeCsv(dir.resolve("test.csv"), digits.slice(1500, 1510));
    }

    @Test
    void everyBackendRunsByDefaultAndTheyAgreeInFloat64() {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("compare", "--spec", spec.toString(),
                "--parameters", parameters.toString(), "--train", train.toString(), "--test", test.toString(),
                "--lambda", "0.01", "--method", "direct");
        assertThreeBackendsAgree(run, 1e-9);
    }

    /**
     * {@code compare --onnx} on the three backends, the torch.onnx MLP fixture (Gemm, ReLU) with its
     * float32 inputs, Gauss-Newton curvature: float64 to 1e-9, float32 to 1e-4.
     */
    @Test
    void anOnnxModelOnTheThreeBackendsAgreesInFloat64AndFloat32() throws IOException {
        Path onnx = GraphFixture.onnxFile("mlp/model.onnx", dir);
        Path x = GraphFixture.onnxFile("mlp/x.npy", dir);
        Path y = GraphFixture.onnxFile("mlp/y.npy", dir);
        for (String dtype : new String[] {"float64", "float32"}) {
            Influence4jCommandTest.Run run = Influence4jCommandTest.run("compare", "--onnx", onnx.toString(),
                    "--loss", "softmax_cross_entropy", "--dtype", dtype, "--train", x.toString(), "--train-labels",
                    y.toString(), "--test", x.toString(), "--test-labels", y.toString(), "--lambda", "0.1",
                    "--curvature", "gauss-newton", "--backends", "djl-pytorch,djl-tf,nd4j");
            assertThreeBackendsAgree(run, dtype.equals("float64") ? 1e-9 : 1e-4);
        }
    }

    private static void assertThreeBackendsAgree(Influence4jCommandTest.Run run, double tolerance) {
        assertEquals(0, run.exitCode(), run.err());
        Matcher row = Pattern.compile("(?m)^(\\S+)\\s+([0-9.]+)\\s+(\\(reference\\)|[0-9.e+-]+\\s+([0-9.e+-]+))\\s*$")
                .matcher(run.out());
        Map<String, Double> relative = new LinkedHashMap<>();
        while (row.find()) {
            relative.put(row.group(1), row.group(4) == null ? 0.0 : Double.parseDouble(row.group(4)));
        }
        assertEquals(java.util.List.of("djl-pytorch", "djl-tf", "nd4j"), java.util.List.copyOf(relative.keySet()),
                "three different backends ran, the default one first:\n" + run.out());
        for (Map.Entry<String, Double> e : relative.entrySet()) {
            assertTrue(e.getValue() <= tolerance, e.getKey() + " differs from djl-pytorch by " + e.getValue() + "\n"
                    + run.out());
        }
        assertTrue(!run.out().contains("only "), run.out());
    }
}
