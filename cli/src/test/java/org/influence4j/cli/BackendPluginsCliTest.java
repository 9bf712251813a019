package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.registry.ConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line compiles against no backend: {@code backends} finds all three in their plugin
 * folders (surefire's {@code -Dinfluence4j.backends}), TorchScript goes through the backend SPI, and
 * the backend comes from the Guice injector, so a user's module that binds it wins.
 */
class BackendPluginsCliTest {

    @TempDir
    Path dir;

    @Test
    void backendsListsEveryPluginWithItsVersionAndFolder() {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("backends");
        assertEquals(0, run.exitCode(), run.err());
        for (String[] b : new String[][] {{"djl-pytorch", "PyTorch 2.7.1"}, {"djl-tf", "TensorFlow 2.16.1"},
                {"nd4j", "ND4J 1.0.0-M2.1"}}) {
            Matcher m = Pattern.compile("(?m)^" + b[0] + "\\s+rank \\d+\\s+(.*)$").matcher(run.out());
            assertTrue(m.find(), b[0] + " missing:\n" + run.out());
            String line = m.group(1);
            assertTrue(line.contains(b[1]) && line.contains("EXACT_HVP"), line);
            assertTrue(line.endsWith("[plugin " + Path.of("..", "backend-" + b[0], "target", "backends", b[0])
                    .toAbsolutePath().normalize() + "]"), line);
        }
        assertTrue(run.out().contains("TORCHSCRIPT"), run.out());
    }

    @Test
    void torchScriptOnABackendWithoutTheCapabilityIsAOneLineError() throws Exception {
        Path pt = Path.of(getClass().getResource("/torchscript/tiny-mlp.pt").toURI());
        Path csv = SubcommandsTest.writeCsv(dir.resolve("four.csv"), new Batch(new double[] {1, 2, 3, 4}, 4,
                new double[] {1}, 1));
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("self-influence", "--torchscript", pt.toString(),
                "--loss", "softmax_cross_entropy", "--train", csv.toString(), "--backend", "nd4j", "--lambda", "1",
                "-o", dir.resolve("never.npy").toString());
        assertEquals(1, run.exitCode(), run.out());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().contains("--torchscript: backend nd4j cannot load TorchScript; use --backend djl-pytorch"),
                run.err());
    }

    @Test
    void aUsersGuiceBindingOfTheBackendIsHonoured() throws IOException {
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        ModelSpec modelSpec = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Path spec = Files.writeString(dir.resolve("spec.json"), modelSpec.toJson());
        Path parameters = dir.resolve("zeros.npy");
        ParameterFiles.write(parameters, modelSpec, new double[modelSpec.numParameters()], Map.of());
        Path train = SubcommandsTest.writeCsv(dir.resolve("train.csv"), data.slice(0, 50));
        Path test = SubcommandsTest.writeCsv(dir.resolve("test.csv"), data.slice(50, 53));
        String[] query = {"compare", "--spec", spec.toString(), "--parameters", parameters.toString(), "--train",
            train.toString(), "--test", test.toString(), "--lambda", "0.1", "--backends", "nd4j"};
        Influence4jCommandTest.Run plain = Influence4jCommandTest.run(query);
        assertEquals(0, plain.exitCode(), plain.err());
        assertTrue(plain.out().contains("\nnd4j "), plain.out());

        String[] bound = java.util.Arrays.copyOf(query, query.length + 1);
        bound[query.length] = "-D" + ConfigKeys.GUICE_MODULES + "=" + UserBackendModule.class.getName();
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(bound);
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("\n" + UserBackendModule.NAME + " ") && !run.out().contains("\nnd4j "),
                "the module's backend ran instead of the one named:\n" + run.out());

        bound[query.length] = "-D" + ConfigKeys.GUICE_MODULES + "=com.example.NoSuchModule";
        run = Influence4jCommandTest.run(bound);
        assertEquals(1, run.exitCode(), run.out());
        assertTrue(run.err().strip().startsWith("influence4j: " + ConfigKeys.GUICE_MODULES
                + ": class com.example.NoSuchModule is not on the class path"), run.err());
    }
}
