package org.influence4j.backend.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.Npy;
import org.influence4j.io.ParameterFiles;

/**
 * One of the PyTorch fixtures of {@code fixtures/} (written by
 * {@code backend-testkit/src/test-fixtures/make_layer_fixtures.py} with Debian's python3-torch):
 * a layer graph, its state_dict, eight samples and PyTorch's float64 outputs for them.
 *
 * @param name       the fixture's folder name
 * @param spec       the model (float64), with the state_dict's buffers
 * @param parameters θ from the state_dict
 * @param batch      the samples and labels
 * @param logits     PyTorch's outputs {@code [n, classes]}
 * @param losses     per-sample cross-entropies {@code [n]}
 * @param grads      per-sample gradients {@code [n, p]}
 * @param v          a direction {@code [p]}
 * @param hvp        the mean-loss Hessian times v
 * @param gnvp       the Gauss-Newton matrix times v
 */
public record GraphFixture(String name, ModelSpec spec, double[] parameters, Batch batch,
                           double[] logits, double[] losses, double[] grads, double[] v, double[] hvp,
                           double[] gnvp) {

    /** The fixture names. */
    public static final List<String> NAMES = List.of("lenet", "resnet", "embed_mean", "embed_layernorm");

    private static final List<String> FILES = List.of("model.json", "state.safetensors", "x.npy", "y.npy",
            "logits.npy", "losses.npy", "grads.npy", "v.npy", "hvp.npy", "gnvp.npy");

    /**
     * Reads a fixture through a temporary copy of its files, which it deletes before returning (tests
     * that need the files themselves copy them with {@link #copyFiles} and read that copy with
     * {@link #read(String, Path)}).
     */
    public static GraphFixture load(String name) {
        try {
            Path folder = Files.createTempDirectory("influence4j-fixture-" + name);
            try {
                return read(name, copyFiles(name, folder));
            } finally {
                FileTrees.delete(folder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Copies the fixture's files from the class path into {@code folder/name}, which the caller owns.
     *
     * @return that folder, holding {@code model.json}, {@code state.safetensors}, {@code x.npy},
     *         {@code y.npy} and PyTorch's outputs
     */
    public static Path copyFiles(String name, Path folder) throws IOException {
        Path files = Files.createDirectories(folder.resolve(name));
        for (String file : FILES) {
            copy("fixtures/" + name + "/" + file, files.resolve(file));
        }
        return files;
    }

    /**
     * Reads a fixture from its files.
     *
     * @param folder a folder that {@link #copyFiles} filled
     */
    public static GraphFixture read(String name, Path folder) throws IOException {
        ModelSpec spec = ModelSpec.read(folder.resolve("model.json"));
        ParameterFiles.State state = ParameterFiles.readState(folder.resolve("state.safetensors"), spec);
        HostArray x = Npy.read(folder.resolve("x.npy"));
        double[] y = Npy.read(folder.resolve("y.npy")).data();
        Batch batch = new Batch(x, y, 1); // features in the file's storage: float32, float64 or int64
        return new GraphFixture(name, state.spec(), state.parameters(), batch, values(folder, "logits.npy"),
                values(folder, "losses.npy"), values(folder, "grads.npy"), values(folder, "v.npy"),
                values(folder, "hvp.npy"), values(folder, "gnvp.npy"));
    }

    /**
     * Copies one file of the torch.onnx fixtures ({@code onnx/} beside {@code fixtures/}, written by
     * {@code make_onnx_fixtures.py}) into {@code folder}.
     *
     * @param path e.g. {@code lenet/model.onnx} or {@code bad/truncated.onnx}
     * @return the copy, named {@code path} with {@code /} replaced by {@code _}
     */
    public static Path onnxFile(String path, Path folder) throws IOException {
        return copyInto("onnx/", path, folder);
    }

    /**
     * Copies one file of the TorchScript fixtures ({@code torchscript/} beside {@code fixtures/},
     * written by backend-djl-pytorch's {@code src/test/resources/torchscript/make_fixture.py}:
     * {@code cnn/} and {@code embed/} with PyTorch's outputs, {@code fashion_cnn/model.pt}) into
     * {@code folder}.
     *
     * @param path e.g. {@code cnn/model.pt} or {@code embed/x.npy}
     * @return the copy, named {@code path} with {@code /} replaced by {@code _}
     */
    public static Path torchScriptFile(String path, Path folder) throws IOException {
        return copyInto("torchscript/", path, folder);
    }

    private static Path copyInto(String prefix, String path, Path folder) throws IOException {
        Path target = folder.resolve(path.replace('/', '_'));
        copy(prefix + path, target);
        return target;
    }

    private static void copy(String resource, Path target) throws IOException {
        try (InputStream in = GraphFixture.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("fixture " + resource + " is not on the class path");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static double[] values(Path folder, String file) throws IOException {
        return Npy.read(folder.resolve(file)).data();
    }

    @Override
    public String toString() {
        return name;
    }
}
