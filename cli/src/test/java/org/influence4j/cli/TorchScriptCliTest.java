package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.io.SafeTensors;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code influences --torchscript} on the fixture {@code tiny-mlp.pt} (a copy of the one made by
 * backend-djl-pytorch's {@code src/test/resources/torchscript/make_fixture.py}) gives the same
 * influences as {@code influences --spec} with the equivalent ModelSpec and the same parameters;
 * {@code tracin --torchscript} with checkpoints saved from PyTorch gives the scores of
 * {@code tracin --onnx} for the same module (the Fashion-MNIST CNN on {@code [n, 1, 28, 28]}); a
 * module on int64 token ids takes {@code --input-type int64}; bad checkpoints and inapplicable
 * options are one-line errors.
 */
class TorchScriptCliTest {

    @TempDir
    Path dir;

    @Test
    void torchScriptInfluencesMatchTheEquivalentModelSpec() throws Exception {
        Path pt = Path.of(getClass().getResource("/torchscript/tiny-mlp.pt").toURI());
        ModelSpec spec = ModelSpec.builder(4).dense(3).activation(Activation.TANH).dense(2)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT32).build();
        Backend backend = BackendDiscovery.load().require("djl-pytorch");
        double[] theta;
        try (TwiceDifferentiable model = backend.loadModel(pt,
                NativeModelOptions.torchScript(4, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32))) {
            theta = model.parameters();
        }
        Path params = dir.resolve("params.npy");
        ParameterFiles.write(params, spec, theta, java.util.Map.of());
        Path specFile = dir.resolve("spec.json");
        Files.writeString(specFile, spec.toJson());
        SplittableRandom r = new SplittableRandom(5);
        double[] x = new double[40 * 4];
        double[] y = new double[40];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble(-2, 2);
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(2);
        }
        Batch all = new Batch(x, 4, y, 1);
        Path train = SubcommandsTest.writeCsv(dir.resolve("train.csv"), all.slice(0, 32));
        Path test = SubcommandsTest.writeCsv(dir.resolve("test.csv"), all.slice(32, 40));

        Path fromSpec = dir.resolve("spec.npy");
        Influence4jCommandTest.Run a = Influence4jCommandTest.run("influences", "--spec", specFile.toString(),
                "--parameters", params.toString(), "--train", train.toString(), "--test", test.toString(),
                "--lambda", "1", "--method", "direct", "-o", fromSpec.toString());
        assertEquals(0, a.exitCode(), a.err());
        Path fromScript = dir.resolve("script.npy");
        Influence4jCommandTest.Run b = Influence4jCommandTest.run("influences", "--torchscript", pt.toString(),
                "--loss", "softmax_cross_entropy", "--train", train.toString(), "--test", test.toString(),
                "--lambda", "1", "--method", "direct", "-o", fromScript.toString());
        assertEquals(0, b.exitCode(), b.err());

        SubcommandsTest.NpyFile expected = SubcommandsTest.NpyFile.read(fromSpec);
        SubcommandsTest.NpyFile actual = SubcommandsTest.NpyFile.read(fromScript);
        assertEquals("<f4", actual.descr);
        assertEquals(expected.values.length, actual.values.length);
        double scale = 0;
        for (double v : expected.values) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.values.length; i++) {
            assertEquals(expected.values[i], actual.values[i], 1e-5 * scale, "influence " + i);
        }
    }

    /** The float64 TorchScript twin of onnx/fashion_cnn with the PyTorch checkpoints of onnx/fashion_cnn_checkpoints. */
    @Test
    void tracinOnATorchScriptModuleEqualsTracinOnItsOnnxExport() throws Exception {
        Path checkpoints = fashionCheckpoints();
        Path pt = GraphFixture.torchScriptFile("fashion_cnn/model.pt", dir);
        Path onnx = GraphFixture.onnxFile("fashion_cnn/model.onnx", dir);
        for (String what : List.of("self-influence", "influences")) {
            List<String> data = fashionTracin(checkpoints, what);
            Path fromScript = dir.resolve("script-" + what + ".npy");
            Path fromOnnx = dir.resolve("onnx-" + what + ".npy");
            run(data, "--torchscript", pt.toString(), "-o", fromScript.toString());
            run(data, "--onnx", onnx.toString(), "-o", fromOnnx.toString());
            double[] expected = Npy.read(fromOnnx).data();
            double[] actual = Npy.read(fromScript).data();
            assertEquals(what.equals("influences") ? 36 : 6, actual.length);
            double err = TestSupport.relErr(actual, expected);
            assertTrue(err < 1e-6, what + ": TorchScript and ONNX differ by " + err);
        }
    }

    /**
     * {@code --checkpoint-threads}: on the ONNX model, checkpoints on two threads give one thread's scores; a
     * TorchScript module has no replicas, so {@code --checkpoint-threads 2} is refused by name (its default runs on
     * one thread, above), as are a count below 1 and {@code --variant randproj}; nothing is written.
     */
    @Test
    void threadsGiveTheSameScoresOrAreRefusedByName() throws Exception {
        Path pt = GraphFixture.torchScriptFile("fashion_cnn/model.pt", dir);
        Path onnx = GraphFixture.onnxFile("fashion_cnn/model.onnx", dir);
        List<String> data = fashionTracin(fashionCheckpoints(), "influences");
        Path one = dir.resolve("one.npy");
        Path two = dir.resolve("two.npy");
        run(data, "--onnx", onnx.toString(), "--checkpoint-threads", "1", "-o", one.toString());
        run(data, "--onnx", onnx.toString(), "--checkpoint-threads", "2", "-o", two.toString());
        double err = TestSupport.relErr(Npy.read(two).data(), Npy.read(one).data());
        assertTrue(err < 1e-12, "2 threads and 1 differ by " + err);
        Path never = dir.resolve("never.npy");
        Influence4jCommandTest.Run script = Influence4jCommandTest.run(concat(data.toArray(new String[0]),
                "--torchscript", pt.toString(), "--checkpoint-threads", "2", "-o", never.toString()));
        assertEquals(1, script.exitCode(), script.err());
        assertOneLine(script.err(), "--checkpoint-threads: 2 needs replicas of the model", "--checkpoint-threads 1");
        Influence4jCommandTest.Run zero = Influence4jCommandTest.run(concat(data.toArray(new String[0]),
                "--onnx", onnx.toString(), "--checkpoint-threads", "0", "-o", never.toString()));
        assertEquals(1, zero.exitCode(), zero.err());
        assertOneLine(zero.err(), "--checkpoint-threads: must be >= 1", "got 0");
        Influence4jCommandTest.Run randproj = Influence4jCommandTest.run(concat(data.toArray(new String[0]),
                "--onnx", onnx.toString(), "--variant", "randproj", "--projection-dim", "4", "--checkpoint-threads", "2", "-o",
                never.toString()));
        assertEquals(1, randproj.exitCode(), randproj.err());
        assertOneLine(randproj.err(), "--checkpoint-threads: applies to --variant cp and fast");
        assertFalse(Files.exists(never), "nothing written");
    }

    @Test
    void aCheckpointWithoutAParameterOrOfAnotherShapeIsNamedWithTheParameter() throws Exception {
        Path pt = GraphFixture.torchScriptFile("fashion_cnn/model.pt", dir);
        String x = GraphFixture.onnxFile("fashion_cnn/x.npy", dir).toString();
        String y = GraphFixture.onnxFile("fashion_cnn/y.npy", dir).toString();
        Path checkpoints = fashionCheckpoints();
        Path second = checkpoints.resolve("checkpoint-epoch-00002.safetensors");
        Map<String, HostArray> state = new LinkedHashMap<>(SafeTensors.read(second));
        Map<String, String> metadata = SafeTensors.readMetadata(second);
        state.put("9.bias", new HostArray(new double[5], new long[] {5}, DType.FLOAT32));
        SafeTensors.write(second, state, metadata);
        String[] args = {"tracin", "--torchscript", pt.toString(), "--loss", "softmax_cross_entropy", "--dtype",
            "float64", "--train", x, "--train-labels", y, "--checkpoints", checkpoints.toString(), "--what",
            "self-influence", "-o", dir.resolve("never.npy").toString()};
        Influence4jCommandTest.Run misshaped = Influence4jCommandTest.run(args);
        assertEquals(1, misshaped.exitCode(), misshaped.err());
        assertOneLine(misshaped.err(), "--checkpoints", second.toString(), "'9.bias'", "[5]", "[10]");
        state.remove("9.bias");
        SafeTensors.write(second, state, metadata);
        Influence4jCommandTest.Run missing = Influence4jCommandTest.run(args);
        assertEquals(1, missing.exitCode(), missing.err());
        assertOneLine(missing.err(), "--checkpoints", second.toString(), "no tensor '9.bias'");
        assertFalse(Files.exists(dir.resolve("never.npy")), "nothing written");

        Influence4jCommandTest.Run fast = Influence4jCommandTest.run(concat(args, "--variant", "fast"));
        assertEquals(1, fast.exitCode(), fast.err());
        assertOneLine(fast.err(), "--variant fast", "--onnx");
    }

    /** An embedding model on int64 ids [n, 6] and a CNN with BatchNorm on [n, 1, 8, 8], shapes read from x.npy. */
    @Test
    void modulesOnTokenIdsAndImagesTakeTheirShapeFromTheData() throws Exception {
        for (String name : List.of("embed", "cnn")) {
            String x = GraphFixture.torchScriptFile(name + "/x.npy", dir).toString();
            String y = GraphFixture.torchScriptFile(name + "/y.npy", dir).toString();
            String pt = GraphFixture.torchScriptFile(name + "/model.pt", dir).toString();
            List<String> args = new ArrayList<>(List.of("self-influence", "--torchscript", pt, "--loss",
                    "softmax_cross_entropy", "--train", x, "--train-labels", y, "--method", "direct", "--lambda",
                    "5")); // λ above the untrained CNN's most negative Hessian eigenvalue (-1.89): Direct refuses less
            Path out = dir.resolve(name + ".npy");
            if (name.equals("embed")) {
                Influence4jCommandTest.Run floats = Influence4jCommandTest.run(concat(args.toArray(new String[0]),
                        "-o", out.toString()));
                assertEquals(1, floats.exitCode(), floats.err());
                assertOneLine(floats.err(), pt, "float32 input [1, 6]", "int64");
                assertFalse(Files.exists(out), "nothing written");
                args.addAll(List.of("--input-type", "int64"));
            }
            run(args, "-o", out.toString());
            double[] self = Npy.read(out).data();
            assertEquals(6, self.length, name);
            for (double v : self) {
                assertTrue(v > 0 && Double.isFinite(v), name + ": self-influence " + v + " with lambda > 0");
            }
        }
        Influence4jCommandTest.Run validate = Influence4jCommandTest.run("validate", "--torchscript",
                GraphFixture.torchScriptFile("cnn/model.pt", dir).toString(), "--loss", "softmax_cross_entropy",
                "--train", GraphFixture.torchScriptFile("cnn/x.npy", dir).toString(), "--train-labels",
                GraphFixture.torchScriptFile("cnn/y.npy", dir).toString(), "--test",
                GraphFixture.torchScriptFile("cnn/x.npy", dir).toString(), "--test-labels",
                GraphFixture.torchScriptFile("cnn/y.npy", dir).toString(), "--lambda", "0.1", "--check", "lds");
        assertEquals(1, validate.exitCode(), validate.err());
        assertOneLine(validate.err(), "--torchscript", "--onnx");
    }

    /**
     * @return {@code tracin} in float64 on the six images of onnx/fashion_cnn as the training data (and
     *     the test data for {@code influences}) with {@code checkpoints}, without the model
     */
    private List<String> fashionTracin(Path checkpoints, String what) throws IOException {
        String x = GraphFixture.onnxFile("fashion_cnn/x.npy", dir).toString();
        String y = GraphFixture.onnxFile("fashion_cnn/y.npy", dir).toString();
        List<String> args = new ArrayList<>(List.of("tracin", "--loss", "softmax_cross_entropy", "--dtype", "float64",
                "--train", x, "--train-labels", y, "--checkpoints", checkpoints.toString(), "--what", what));
        if (what.equals("influences")) {
            args.addAll(List.of("--test", x, "--test-labels", y));
        }
        return args;
    }

    private Path fashionCheckpoints() throws IOException {
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        for (String epoch : List.of("00001", "00002")) {
            Files.move(GraphFixture.onnxFile("fashion_cnn_checkpoints/checkpoint-epoch-" + epoch + ".safetensors", dir),
                    checkpoints.resolve("checkpoint-epoch-" + epoch + ".safetensors"));
        }
        return checkpoints;
    }

    private static void run(List<String> args, String... more) {
        Influence4jCommandTest.Run r = Influence4jCommandTest.run(concat(args.toArray(new String[0]), more));
        assertEquals(0, r.exitCode(), r.err());
    }

    private static String[] concat(String[] args, String... more) {
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static void assertOneLine(String err, String... parts) {
        assertEquals(1, err.strip().lines().count(), err);
        for (String part : parts) {
            assertTrue(err.contains(part), "'" + part + "' missing from: " + err);
        }
    }
}
