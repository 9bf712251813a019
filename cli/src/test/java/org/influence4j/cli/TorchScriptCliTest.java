package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.api.model.ParameterFiles;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code influences --torchscript} on the fixture {@code tiny-mlp.pt} (a copy of the one made by
 * backend-djl-pytorch's {@code src/test/resources/torchscript/make_fixture.py}) gives the same
 * influences as {@code influences --spec} with the equivalent ModelSpec and the same parameters.
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
}
