package org.influence4j.cli;

import static org.influence4j.cli.SubcommandsTest.expectFailure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.calculators.validation.LinearDatamodelingScore;
import org.influence4j.calculators.validation.Retrainers;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tracin} and {@code validate --check lds} on breast-cancer CSV files, compared with the Java
 * API computed independently in the test: a small MLP trained by {@code train --optimizer sgd
 * --checkpoints} for TracIn, and the L2 logistic regression trained by Newton's method for the LDS.
 */
class TracInValidateCliTest {

    private static final int BATCH = 128;

    @TempDir
    static Path dir;

    static Batch train;
    static Batch test;
    static Path trainCsv;
    static Path testCsv;
    static ModelSpec mlp;
    static Path mlpSpec;
    static Path mlpParameters;
    static Path checkpoints;
    static ModelSpec logistic;
    static Path logisticSpec;
    static Path logisticParameters;

    @BeforeAll
    static void writeInputsAndTrain() throws IOException {
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        train = data.slice(0, 400);
        test = data.slice(400, 410);
        trainCsv = SubcommandsTest.writeCsv(dir.resolve("train.csv"), train);
        testCsv = SubcommandsTest.writeCsv(dir.resolve("test.csv"), test);

        mlp = ModelSpec.builder(30).dense(8).activation(Activation.TANH).dense(1).loss(Loss.BINARY_LOGISTIC)
                .dtype(DType.FLOAT64).build();
        mlpSpec = dir.resolve("mlp.json");
        Files.writeString(mlpSpec, mlp.toJson());
        mlpParameters = dir.resolve("mlp.safetensors");
        checkpoints = dir.resolve("ckpt");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("train", "--spec", mlpSpec.toString(), "--train",
                trainCsv.toString(), "--optimizer", "sgd", "--lr", "0.1", "--lr-decay", "0.5", "--epochs", "3",
                "--l2", "0.01", "--checkpoints", checkpoints.toString(), "-o", mlpParameters.toString());
        assertEquals(0, run.exitCode(), run.err());

        logistic = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        logisticSpec = dir.resolve("logistic.json");
        Files.writeString(logisticSpec, logistic.toJson());
        logisticParameters = dir.resolve("logistic.safetensors");
        run = Influence4jCommandTest.run("train", "--spec", logisticSpec.toString(), "--train", trainCsv.toString(),
                "--optimizer", "newton", "--l2", "0.01", "-o", logisticParameters.toString());
        assertEquals(0, run.exitCode(), run.err());
    }

    private static String[] tracin(String... extra) {
        return tracinAt(checkpoints, extra);
    }

    private static String[] tracinAt(Path folder, String... extra) {
        List<String> args = new ArrayList<>(List.of("tracin", "--spec", mlpSpec.toString(), "--parameters",
                mlpParameters.toString(), "--train", trainCsv.toString(), "--checkpoints", folder.toString(),
                "--batch-size", Integer.toString(BATCH)));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static Influence4jCommandTest.Run ok(String... args) {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        return run;
    }

    private static Backend backend() {
        return BackendDiscovery.load().require("djl-pytorch");
    }

    private static void assertBitwiseEqual(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]),
                    "element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    @Test
    void selfInfluenceInfluencesAndTopKEqualTracInCpOfTheJavaApi() throws IOException {
        Path self = dir.resolve("tracin-self.npy");
        ok(tracin("--what", "self-influence", "-o", self.toString()));
        Path restricted = dir.resolve("tracin-layers.csv");
        ok(tracin("--what", "influences", "--test", testCsv.toString(), "--layers", "2.weight,2.bias", "-o",
                restricted.toString()));
        Path top = dir.resolve("tracin-top.csv");
        ok(tracin("--what", "top-k", "--test", testCsv.toString(), "-k", "4", "-o", top.toString()));
        Path proponents = dir.resolve("tracin-proponents.csv");
        ok(tracin("--what", "top-k", "--test", testCsv.toString(), "-k", "400", "--order", "proponents", "-o",
                proponents.toString()));

        TracInCheckpoints loaded = TracInCheckpoints.fromDirectory(checkpoints, mlp, CheckpointLoader.DEFAULT);
        assertEquals(3, loaded.size());
        InMemoryDataSource source = new InMemoryDataSource(train);
        Backend backend = backend();
        try (TwiceDifferentiable model = backend.createModel(mlp, ParameterFiles.read(mlpParameters, mlp));
             TensorScope scope = backend.newScope()) {
            TracInCP all = new TracInCP(model, loaded, TracInOptions.defaults().withBatchSize(BATCH));
            SubcommandsTest.NpyFile npy = SubcommandsTest.NpyFile.read(self);
            assertEquals("<f8", npy.descr);
            assertArrayEquals(new long[] {train.size()}, npy.shape);
            assertBitwiseEqual(all.selfInfluence(source), npy.values);

            TracInCP last = new TracInCP(model, loaded, TracInOptions.defaults().withBatchSize(BATCH)
                    .withLayers("2.weight", "2.bias"));
            double[] expected = last.influences(test, train, scope).toDoubleArray();
            List<String> lines = Files.readAllLines(restricted);
            assertEquals(test.size(), lines.size());
            double[] actual = lines.stream().flatMap(l -> java.util.Arrays.stream(l.split(",")))
                    .mapToDouble(Double::parseDouble).toArray();
            assertBitwiseEqual(expected, actual);

            assertEquals(expectedRows(List.of(all.topK(test, source, 4, TopKOrder.PROPONENTS),
                    all.topK(test, source, 4, TopKOrder.OPPONENTS))), Files.readAllLines(top));
            assertEquals(expectedRows(List.of(all.topK(test, source, 400, TopKOrder.PROPONENTS))),
                    Files.readAllLines(proponents));
        }
    }

    /** The CSV lines of TopK results, written here independently of the command's writer. */
    private static List<String> expectedRows(List<TopK> parts) {
        List<String> rows = new ArrayList<>(List.of("test,kind,rank,train,influence"));
        for (int t = 0; t < parts.get(0).numRows(); t++) {
            for (TopK part : parts) {
                for (int r = 0; r < part.k(); r++) {
                    rows.add(String.format(Locale.ROOT, "%d,%s,%d,%d,%s", t,
                            part.order() == TopKOrder.PROPONENTS ? "proponent" : "opponent", r + 1,
                            part.indices(t)[r], Double.toString(part.scores(t)[r])));
                }
            }
        }
        return rows;
    }

    @Test
    void randomProjectionOfDimensionZeroEqualsFast() throws IOException {
        for (String what : List.of("self-influence", "influences")) {
            List<String> testArgs = what.equals("influences") ? List.of("--test", testCsv.toString()) : List.of();
            Path fast = dir.resolve("fast-" + what + ".npy");
            Path randproj = dir.resolve("randproj-" + what + ".npy");
            List<String> a = new ArrayList<>(List.of("--what", what, "--variant", "fast", "-o", fast.toString()));
            a.addAll(testArgs);
            ok(tracin(a.toArray(String[]::new)));
            List<String> b = new ArrayList<>(List.of("--what", what, "--variant", "randproj", "--projection-dim", "0",
                    "--seed", "3", "-o", randproj.toString()));
            b.addAll(testArgs);
            ok(tracin(b.toArray(String[]::new)));
            double[] x = SubcommandsTest.NpyFile.read(fast).values;
            double[] y = SubcommandsTest.NpyFile.read(randproj).values;
            assertEquals(x.length, y.length);
            double scale = java.util.Arrays.stream(x).map(Math::abs).max().orElseThrow();
            assertTrue(scale > 0);
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], y[i], 1e-12 * scale, what + " element " + i);
            }
        }
        // a real projection (4 of the 8 last-layer weights) is an estimate: close to fast, not equal
        double[] f = SubcommandsTest.NpyFile.read(dir.resolve("fast-self-influence.npy")).values;
        for (String projection : new String[] {"factor-pca", "kronecker"}) {
            Path projected = dir.resolve("randproj-4-" + projection + ".npy");
            ok(tracin("--what", "self-influence", "--variant", "randproj", "--projection-dim", "4", "--projection",
                    projection, "-o", projected.toString()));
            double[] p = SubcommandsTest.NpyFile.read(projected).values;
            assertTrue(!java.util.Arrays.equals(p, f), projection);
            assertTrue(Correlation.pearson(p, f) > 0.5, projection + ": projected vs exact self-influence r = "
                    + Correlation.pearson(p, f));
        }
    }

    @Test
    void badTracInInputEndsWithOneLineNamingTheArgument() throws IOException {
        String message = expectFailure(1, "--checkpoints", tracinAt(dir.resolve("no-such-dir"), "--what",
                "self-influence", "-o", "x.npy"));
        assertTrue(message.contains("no-such-dir") && message.contains("does not exist"), message);

        Path emptyDir = Files.createDirectories(dir.resolve("empty-ckpt"));
        expectFailure(1, "--checkpoints", tracinAt(emptyDir, "--what", "self-influence", "-o",
                "x.npy"));

        Path other = dir.resolve("logistic-ckpt");
        ok("train", "--spec", logisticSpec.toString(), "--train", trainCsv.toString(), "--optimizer", "sgd", "--epochs",
                "1", "--checkpoints", other.toString(), "-o", dir.resolve("logistic-sgd.npy").toString());
        message = expectFailure(1, "--checkpoints", tracinAt(other, "--what", "self-influence", "-o",
                "x.npy"));
        assertTrue(message.contains("checkpoint-epoch-00001.safetensors"), message);
        Path wider = dir.resolve("mlp16.json");
        Files.writeString(wider, ModelSpec.builder(30).dense(16).activation(Activation.TANH).dense(1)
                .loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build().toJson());
        Path widerCheckpoints = dir.resolve("mlp16-ckpt");
        ok("train", "--spec", wider.toString(), "--train", trainCsv.toString(), "--optimizer", "sgd", "--epochs", "1",
                "--checkpoints", widerCheckpoints.toString(), "-o", dir.resolve("mlp16.npy").toString());
        message = expectFailure(1, "--checkpoints", tracinAt(widerCheckpoints, "--what", "self-influence", "-o",
                "x.npy"));
        assertTrue(message.contains("[16, 30]") && message.contains("[8, 30]"), message);

        expectFailure(1, "-k", tracin("--what", "top-k", "--test", testCsv.toString(), "-k", "0", "-o", "x.csv"));
        message = expectFailure(1, "-k", tracin("--what", "top-k", "--test", testCsv.toString(), "-k", "401", "-o",
                "x.csv"));
        assertTrue(message.contains("400"), message);

        Path empty = dir.resolve("empty.csv");
        Files.writeString(empty, "");
        message = expectFailure(1, "--test", tracin("--what", "influences", "--test", empty.toString(), "-o", "x.npy"));
        assertTrue(message.contains("empty.csv") && message.contains("no data rows"), message);

        expectFailure(1, "--test", tracin("--what", "top-k", "-o", "x.csv"));
        expectFailure(1, "--projection-dim", tracin("--what", "self-influence", "--variant", "randproj", "-o", "x.npy"));
        expectFailure(1, "--projection", tracin("--what", "self-influence", "--variant", "randproj", "--projection-dim",
                "4", "--projection", "gaussian", "-o", "x.npy"));
        expectFailure(1, "--layers", tracin("--what", "self-influence", "--layers", "9.weight", "-o", "x.npy"));
        expectFailure(1, "--output", tracin("--what", "top-k", "--test", testCsv.toString(), "-o", "x.npy"));
        expectFailure(2, "--what", tracin("-o", "x.npy"));
        expectFailure(2, "--what", tracin("--what", "everything", "-o", "x.npy"));
        expectFailure(2, "--variant", tracin("--what", "self-influence", "--variant", "slow", "-o", "x.npy"));
    }

    @Test
    void ldsOfTheInfluenceFunctionEqualsTheJavaApi() throws IOException {
        Path perTest = dir.resolve("lds.npy");
        Influence4jCommandTest.Run run = ok("validate", "--spec", logisticSpec.toString(), "--parameters",
                logisticParameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(),
                "--lambda", "0.01", "--method", "direct", "--check", "lds", "--subsets", "10", "--fraction", "0.5",
                "--seed", "0", "-o", perTest.toString());

        LinearDatamodelingScore.Result expected;
        Backend backend = backend();
        try (TwiceDifferentiable model = backend.createModel(logistic, ParameterFiles.read(logisticParameters, logistic));
             TensorScope scope = backend.newScope();
             DirectInfluence influence = new DirectInfluence(model, new InfluenceOptions(0.01, 512))) {
            influence.fit(new InMemoryDataSource(train));
            double[] scores = influence.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
            LinearDatamodelingScore lds = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(10, 0.5, 0));
            expected = lds.score(scores, test.size(), train.size(), lds.retrain(train.size(),
                    Retrainers.newton(model, train, test, ObjectiveOptions.ofL2(0.01), new NewtonOptions(1e-10, 50))));
        }
        assertTrue(expected.lds() > 0.2, "LDS " + expected.lds());
        assertLdsPrinted(expected, run.out());
        assertBitwiseEqual(expected.perTest(), SubcommandsTest.NpyFile.read(perTest).values);

        // both checks in one run: the leave-one-out lines are unchanged
        run = ok("validate", "--spec", logisticSpec.toString(), "--parameters", logisticParameters.toString(),
                "--train", trainCsv.toString(), "--test", testCsv.toString(), "--lambda", "0.01", "--method", "direct",
                "--check", "both", "--subsets", "10", "--test-points", "1", "-k", "10");
        assertTrue(run.out().contains("Pearson r = "), run.out());
        assertLdsPrinted(expected, run.out());

        expectFailure(1, "--subsets", "validate", "--spec", logisticSpec.toString(), "--parameters",
                logisticParameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(),
                "--lambda", "0.01", "--check", "lds", "--subsets", "2");
        expectFailure(1, "--fraction", "validate", "--spec", logisticSpec.toString(), "--parameters",
                logisticParameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(),
                "--lambda", "0.01", "--check", "lds", "--fraction", "1.5");
        expectFailure(1, "--check lds", "validate", "--spec", mlpSpec.toString(), "--parameters",
                mlpParameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(),
                "--lambda", "0.01");
    }

    @Test
    void ldsOfTracInOnTheMlpRetrainsInMinibatchesLikeTrain() throws IOException {
        Influence4jCommandTest.Run run = ok("validate", "--spec", mlpSpec.toString(), "--parameters",
                mlpParameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(),
                "--lambda", "0.01", "--check", "lds", "--subsets", "5", "--checkpoints", checkpoints.toString(),
                "--optimizer", "sgd", "--lr", "0.1", "--lr-decay", "0.5", "--epochs", "3", "--train-seed", "0");
        assertTrue(run.out().contains("TracInCP (3 checkpoints)"), run.out());

        LinearDatamodelingScore.Result expected;
        Backend backend = backend();
        try (TwiceDifferentiable model = backend.createModel(mlp, ParameterFiles.read(mlpParameters, mlp));
             TensorScope scope = backend.newScope()) {
            TracInCheckpoints loaded = TracInCheckpoints.fromDirectory(checkpoints, mlp, CheckpointLoader.DEFAULT);
            double[] scores = new TracInCP(model, loaded, TracInOptions.defaults().withBatchSize(512))
                    .influences(test, train, scope).toDoubleArray();
            MinibatchOptions sgd = MinibatchOptions.of(Optimizer.sgd(0.1), 3, 32, 0).withL2(0.01)
                    .withLearningRateDecay(0.5);
            LinearDatamodelingScore lds = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(5, 0.5, 0));
            expected = lds.score(scores, test.size(), train.size(), lds.retrain(train.size(),
                    Retrainers.minibatch(model, train, test, sgd, mlp.initialParameters(0))));
        }
        assertLdsPrinted(expected, run.out());
    }

    private static void assertLdsPrinted(LinearDatamodelingScore.Result expected, String out) {
        Matcher m = Pattern.compile("LDS = (\\S+) for .* over (\\d+) test points").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(String.format("%.4f", expected.lds()), m.group(1), out);
        assertEquals(Integer.toString(test.size()), m.group(2), out);
        assertTrue(out.contains("undefined (constant values): " + expected.undefined() + " of " + test.size())
                || expected.undefined() == test.size(), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("trust: ")), out);
    }

    /** Pearson's r, written here so the test does not rely on the code under test. */
    static final class Correlation {
        static double pearson(double[] x, double[] y) {
            double mx = java.util.Arrays.stream(x).average().orElseThrow();
            double my = java.util.Arrays.stream(y).average().orElseThrow();
            double sxy = 0;
            double sxx = 0;
            double syy = 0;
            for (int i = 0; i < x.length; i++) {
                sxy += (x[i] - mx) * (y[i] - my);
                sxx += (x[i] - mx) * (x[i] - mx);
                syy += (y[i] - my) * (y[i] - my);
            }
            return sxy / Math.sqrt(sxx * syy);
        }
    }
}
