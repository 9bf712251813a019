package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.onnx.OnnxModels;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Fashion-MNIST CNN brought two ways — the ONNX file torch.onnx wrote and the layer-graph
 * {@code examples/fashion-mnist-cnn/model.json} with the module's state_dict — gives the same
 * TracInCP (self-influence and influences), TracInCPFast, EK-FAC and Gauss-Newton CG scores
 * (relative 1e-6, float64) on every backend, with two SGD checkpoints saved from PyTorch
 * ({@code onnx/fashion_cnn_checkpoints}, safetensors with learning-rate metadata, loaded by name).
 */
class FashionOnnxParityTest {

    private static final Logger LOG = LoggerFactory.getLogger(FashionOnnxParityTest.class);
    private static final double LAMBDA = 0.1;

    @TempDir
    Path dir;

    static Stream<String> backends() {
        return AvailableBackends.names().stream();
    }

    /** Every score of one way in, by name. */
    private static Map<String, double[]> scores(Backend backend, ModelSpec spec, double[] theta, Path checkpointDir,
                                                Batch batch) {
        Map<String, double[]> out = new LinkedHashMap<>();
        InMemoryDataSource data = new InMemoryDataSource(batch);
        TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(checkpointDir, spec, CheckpointLoader.DEFAULT);
        try (TwiceDifferentiable model = backend.createModel(spec, theta);
             TensorScope scope = backend.newScope()) {
            TracInCP cp = new TracInCP(model, checkpoints, TracInOptions.defaults());
            long start = System.nanoTime();
            out.put("TracInCP self-influence", cp.selfInfluence(data));
            out.put("TracInCP influences", cp.influences(batch, batch, scope).toDoubleArray());
            out.put("TracInCPFast self-influence", new TracInCPFast(model, checkpoints, 64, true).selfInfluence(data));
            model.setParameters(theta);
            long ekfacStart = System.nanoTime();
            try (EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(LAMBDA, true))) {
                ekfac.fit(data);
                out.put("EK-FAC influences", ekfac.influences(batch, batch, InfluenceMode.UP, scope).toDoubleArray());
            }
            long cgStart = System.nanoTime();
            try (InverseHessianInfluence cg = new InverseHessianInfluence(model,
                    new ConjugateGradientSolver(new CgOptions(1e-10, 1e-14, 200)),
                    new InfluenceOptions(LAMBDA, 64, Curvature.GAUSS_NEWTON))) {
                cg.fit(data);
                out.put("Gauss-Newton CG influences", cg.influences(batch.slice(0, 2), batch, InfluenceMode.UP, scope)
                        .toDoubleArray());
            }
            LOG.info("{}: TracIn {} ms, EK-FAC {} ms, Gauss-Newton CG {} ms", backend.name(),
                    (ekfacStart - start) / 1_000_000, (cgStart - ekfacStart) / 1_000_000,
                    (System.nanoTime() - cgStart) / 1_000_000);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void theOnnxFileAndTheLayerGraphGiveTheSameScores(String backendName) throws IOException {
        Path checkpointDir = Files.createDirectories(dir.resolve("checkpoints"));
        for (String epoch : List.of("00001", "00002")) {
            GraphFixture.onnxFile("fashion_cnn_checkpoints/checkpoint-epoch-" + epoch + ".safetensors", checkpointDir);
        }
        HostArray x = Npy.read(GraphFixture.onnxFile("fashion_cnn/x.npy", dir));
        double[] y = Npy.read(GraphFixture.onnxFile("fashion_cnn/y.npy", dir)).data();
        Batch batch = new Batch(x.data(), 784, y, 1);

        OnnxModels.Imported onnx = OnnxModels.read(GraphFixture.onnxFile("fashion_cnn/model.onnx", dir),
                Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        ModelSpec graph = ModelSpec.read(Path.of("..", "examples", "fashion-mnist-cnn", "model.json"))
                .withDType(DType.FLOAT64);
        ParameterFiles.State state = ParameterFiles.readState(GraphFixture.onnxFile("fashion_cnn/state.safetensors",
                dir), graph);
        assertArrayEquals(state.parameters(), onnx.parameters(), "the ONNX initializers are the state_dict");

        Backend backend = BackendDiscovery.load().require(backendName);
        Map<String, double[]> fromOnnx = scores(backend, onnx.spec(), onnx.parameters(), checkpointDir, batch);
        Map<String, double[]> fromGraph = scores(backend, state.spec(), state.parameters(), checkpointDir, batch);
        assertEquals(fromGraph.keySet(), fromOnnx.keySet());
        for (String what : fromGraph.keySet()) {
            double err = TestSupport.relErr(fromOnnx.get(what), fromGraph.get(what));
            assertTrue(err < 1e-6, backendName + " " + what + ": ONNX and model.json differ by " + err);
        }
    }
}
