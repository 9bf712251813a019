package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.DType;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.io.Npy;
import org.influence4j.api.model.Loss;
import org.influence4j.io.ParameterFiles;
import org.influence4j.onnx.OnnxModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --onnx}: a torch.onnx export of the LeNet-style CNN gives the same self-influences as the
 * same model given by {@code --spec}/{@code --parameters} (the imported graph written as JSON and its
 * weights as safetensors), a checkpoint of the module loads by name with {@code --parameters}, and
 * unsupported files are one-line usage errors.
 */
class OnnxCliTest {

    @TempDir
    Path dir;

    private Path resource(String path) throws IOException {
        return GraphFixture.onnxFile(path, dir);
    }

    @Test
    void anOnnxExportAnswersLikeItsSpec() throws IOException {
        Path onnx = resource("lenet/model.onnx");
        Path x = resource("lenet/x.npy");
        Path y = resource("lenet/y.npy");
        OnnxModels.Imported imported = OnnxModels.read(onnx, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        Path spec = dir.resolve("spec.json");
        imported.spec().write(spec);
        Path params = dir.resolve("params.safetensors");
        ParameterFiles.write(params, imported.spec(), imported.parameters(), null);
        String[] common = {"--train", x.toString(), "--train-labels", y.toString(), "--method", "direct", "--lambda",
            "5"}; // λ above the most negative Hessian eigenvalue of both parameter sets (H + λI positive definite)
        Path fromOnnx = dir.resolve("onnx.npy");
        Path fromSpec = dir.resolve("spec.npy");
        Path fromCheckpoint = dir.resolve("checkpoint.npy");
        run(common, "self-influence", "--onnx", onnx.toString(), "--loss", "softmax_cross_entropy", "--dtype",
                "float64", "-o", fromOnnx.toString());
        run(common, "self-influence", "--spec", spec.toString(), "--parameters", params.toString(), "-o",
                fromSpec.toString());
        run(common, "self-influence", "--onnx", onnx.toString(), "--loss", "softmax_cross_entropy", "--dtype",
                "float64", "--parameters", resource("lenet/state.safetensors").toString(), "-o",
                fromCheckpoint.toString());
        double[] a = Npy.read(fromOnnx).data();
        assertEquals(6, a.length);
        assertArrayEquals(Npy.read(fromSpec).data(), a, 1e-9 * maxAbs(a));
        assertArrayEquals(a, Npy.read(fromCheckpoint).data(), 1e-4 * maxAbs(a), "the state_dict loads by name");
    }

    @Test
    void unsupportedOnnxFilesAreUsageErrorsNamingTheFile() throws IOException {
        Path bad = resource("bad/two_unsupported_ops.onnx");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("self-influence", "--onnx", bad.toString(),
                "--loss", "mse", "--train", resource("mlp/x.npy").toString(), "--train-labels",
                resource("mlp/y.npy").toString(), "-o", dir.resolve("out.npy").toString());
        assertTrue(run.exitCode() != 0, run.out());
        assertTrue(run.err().contains("--onnx: ONNX file " + bad) && run.err().contains("CumSum"), run.err());
        run = Influence4jCommandTest.run("self-influence", "--onnx", bad.toString(), "--train", "x.npy", "-o",
                dir.resolve("out.npy").toString());
        assertTrue(run.err().contains("--loss: an --onnx model needs its loss"), run.err());
    }

    /** A recurrent model (torch.onnx.export of nn.LSTM): exit 1, one line naming LSTM and its node, nothing written. */
    @Test
    void anLstmIsRefusedNamingTheOpAndItsNode() throws IOException {
        Path lstm = resource("bad/lstm.onnx");
        Path out = dir.resolve("lstm.npy");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("self-influence", "--onnx", lstm.toString(),
                "--loss", "softmax_cross_entropy", "--train", resource("mlp/x.npy").toString(), "--train-labels",
                resource("mlp/y.npy").toString(), "-o", out.toString());
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(java.util.regex.Pattern.compile("LSTM '[^']+'").matcher(run.err()).find(), run.err());
        assertTrue(run.err().startsWith("influence4j: --onnx: ONNX file " + lstm), run.err());
        assertFalse(Files.exists(out));
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) {
            m = Math.max(m, Math.abs(d));
        }
        return m;
    }

    /** Runs a command with {@code head} followed by {@code common}; it must succeed. */
    private static void run(String[] common, String... head) {
        String[] args = new String[head.length + common.length];
        System.arraycopy(head, 0, args, 0, head.length);
        System.arraycopy(common, 0, args, head.length, common.length);
        check(args);
    }

    private static void check(String[] args) {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), run.out() + run.err());
    }
}
