package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.io.ParameterFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TracInCP through Dense-layer factors (a format-1 MLP, {@code (δ_i·δ_j)(a_i·a_j + 1)} per layer),
 * and through gradient blocks (a CNN: its Dense layers as factors, its convolutions as columns;
 * embedding models: the table as the rows the samples look up, ids repeated within and across
 * samples, and a LayerNorm as columns) equals
 * {@code Σ_c η_c G_test G_trainᵀ} built from the model's own per-sample gradients, in float64 to
 * 1e-12, on djl-pytorch.
 */
class TracInFactoredTest {

    private static final double[] RATES = {0.1, 0.05};

    @TempDir
    Path dir;

    @Test
    void denseStackThroughFactorsEqualsTheGradientProducts() throws IOException {
        ModelSpec spec = TestSupport.twoHiddenLayers(org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY,
                DType.FLOAT64);
        check(spec, TestSupport.parameters(spec, 3, 1), TestSupport.randomBatch(spec, 23, 4), List.of());
    }

    @Test
    void convolutionsAndEmbeddingsThroughGradientsEqualTheGradientProducts() throws IOException {
        for (String name : List.of("lenet", "embed_mean", "embed_layernorm")) {
            GraphFixture f = GraphFixture.load(name);
            check(f.spec().withDType(DType.FLOAT64), f.parameters(), f.batch(), List.of());
        }
    }

    /**
     * Named layers restrict the blocks, not gradients formed whole: a convolution's columns, a Dense
     * layer's weight without its bias (factors), a Dense bias without its weight (columns δ), an
     * Embedding table (rows), a LayerNorm's bias, a BatchNorm's weight; against the products of the
     * named parameters' gradients, named out of θ's order.
     */
    @Test
    void namedLayersThroughRestrictedBlocksEqualTheirGradientProducts() throws IOException {
        Map<String, List<String>> named = Map.of(
                "lenet", List.of("3.weight", "9.bias", "7.weight", "0.bias"),
                "embed_layernorm", List.of("proj.weight", "emb.weight", "norm.bias", "head.bias"),
                "resnet", List.of("bn1.weight", "fc.weight", "fc.bias", "stem.weight"));
        for (Map.Entry<String, List<String>> e : named.entrySet()) {
            GraphFixture f = GraphFixture.load(e.getKey());
            check(f.spec().withDType(DType.FLOAT64), f.parameters(), f.batch(), e.getValue());
        }
        ModelSpec mlp = TestSupport.twoHiddenLayers(org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        check(mlp, TestSupport.parameters(mlp, 3, 1), TestSupport.randomBatch(mlp, 23, 4),
                List.of(mlp.parameterLayout().get(2).name(), mlp.parameterLayout().get(1).name()));
    }

    /**
     * The batch size follows the per-sample gradient columns: an embedding table of 4,096 × 64 (its
     * rows looked up, no columns), the LeNet-style CNN (262 columns, its Dense layers factored) and a
     * format-1 MLP (all factored) keep 256, also with named layers (a layer graph's blocks are
     * restricted); a format-1 MLP of 526,851 parameters with named layers has its gradients formed
     * whole (4 MiB a sample in float64), which lowers the batch to what fits in
     * {@code TracInCP.BATCH_COLUMN_BYTES} (256 MiB).
     */
    @Test
    void batchesShrinkOnlyForWideGradientColumns() throws IOException {
        ModelSpec embedding = ModelSpec.fromJson("{\"format\": 2, \"input\": {\"shape\": [8], \"dtype\": \"int64\"},"
                + " \"nodes\": [{\"name\": \"emb\", \"op\": \"embedding\", \"inputs\": [\"input\"], \"num_embeddings\": 4096,"
                + " \"embedding_dim\": 64}, {\"name\": \"mean0\", \"op\": \"mean\", \"axis\": 0},"
                + " {\"name\": \"fc\", \"op\": \"dense\", \"in_features\": 64, \"out_features\": 3, \"bias\": true}],"
                + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float64\"}");
        GraphFixture lenet = GraphFixture.load("lenet");
        ModelSpec mlp = TestSupport.twoHiddenLayers(org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        assertBatch(embedding, embedding.initialParameters(1), TracInOptions.defaults(), 256);
        assertBatch(lenet.spec(), lenet.parameters(), TracInOptions.defaults(), 256);
        assertBatch(mlp, TestSupport.parameters(mlp, 3, 1), TracInOptions.defaults(), 256);
        assertBatch(embedding, embedding.initialParameters(1), TracInOptions.defaults().withLayers("emb.weight"), 256);
        ModelSpec wide = ModelSpec.builder(1024).dense(512).activation(org.influence4j.api.model.Activation.TANH)
                .dense(3).loss(org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        assertBatch(wide, TestSupport.parameters(wide, 3, 1), TracInOptions.defaults(), 256);
        assertBatch(wide, TestSupport.parameters(wide, 3, 1),
                TracInOptions.defaults().withLayers(wide.parameterLayout().get(0).name()),
                (int) ((256L << 20) / (wide.numParameters() * (long) Double.BYTES)));
        assertBatch(embedding, embedding.initialParameters(1), TracInOptions.defaults().withBatchSize(16), 16);
    }

    private void assertBatch(ModelSpec spec, double[] theta, TracInOptions options, int expected) throws IOException {
        Path file = dir.resolve("batch-" + spec.numParameters() + ".safetensors");
        ParameterFiles.write(file, spec, theta, Map.of());
        TracInCheckpoints checkpoints = TracInCheckpoints.fromFiles(List.of(file), new double[] {0.1}, spec,
                CheckpointLoader.DEFAULT);
        try (TwiceDifferentiable model = PtBackendProvider.backend().createModel(spec, theta)) {
            assertEquals(expected, new TracInCP(model, checkpoints, options).options().batchSize(),
                    spec.numParameters() + " parameters, " + model.perSampleGradientColumns() + " gradient columns");
        }
    }

    /**
     * TracInCP's influences, top-3 proponents' scores and self-influence against the products of the
     * {@code layers}' (all when empty) gradients.
     */
    private void check(ModelSpec spec, double[] theta, Batch train, List<String> layers) throws IOException {
        List<Path> files = new ArrayList<>();
        List<double[]> thetas = new ArrayList<>();
        for (int c = 0; c < RATES.length; c++) {
            double[] t = theta.clone();
            for (int j = 0; j < t.length; j++) {
                t[j] *= 1 + 0.1 * c * Math.sin(j);
            }
            Path file = dir.resolve(spec.numParameters() + "-checkpoint-" + c + ".safetensors");
            ParameterFiles.write(file, spec, t, Map.of());
            files.add(file);
            thetas.add(t);
        }
        TracInCheckpoints checkpoints = TracInCheckpoints.fromFiles(files, RATES, spec, CheckpointLoader.DEFAULT);
        Batch test = train.slice(0, 3);
        int m = test.size();
        int n = train.size();
        try (TwiceDifferentiable model = PtBackendProvider.backend().createModel(spec, theta);
             TensorScope scope = model.backend().newScope()) {
            int p = model.numParameters();
            boolean[] kept = new boolean[p];
            for (org.influence4j.api.model.ParameterInfo info : model.parameterLayout()) {
                if (layers.isEmpty() || layers.contains(info.name())) {
                    java.util.Arrays.fill(kept, info.offset(), info.offset() + info.size(), true);
                }
            }
            double[] expected = new double[m * n];
            double[] expectedSelf = new double[n];
            for (int c = 0; c < RATES.length; c++) {
                model.setParameters(thetas.get(c));
                double[] gt = model.perSampleGradients(test, scope).toDoubleArray();
                double[] g = model.perSampleGradients(train, scope).toDoubleArray();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int k = 0; k < p; k++) {
                            dot += kept[k] ? gt[i * p + k] * g[j * p + k] : 0;
                        }
                        expected[i * n + j] += RATES[c] * dot;
                    }
                }
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int k = 0; k < p; k++) {
                        dot += kept[k] ? g[j * p + k] * g[j * p + k] : 0;
                    }
                    expectedSelf[j] += RATES[c] * dot;
                }
            }
            TracInCP tracin = new TracInCP(model, checkpoints, TracInOptions.defaults().withBatchSize(7)
                    .withLayers(layers.toArray(new String[0])));
            double[] got = tracin.influences(test, train, scope).toDoubleArray();
            double[] self = tracin.selfInfluence(new InMemoryDataSource(train));
            double err = TestSupport.relErr(got, expected);
            double selfErr = TestSupport.relErr(self, expectedSelf);
            assertTrue(err < 1e-12, spec.isGraph() + " " + layers + " influences relative error " + err);
            org.influence4j.calculators.attribution.TopK top = tracin.topK(test, new InMemoryDataSource(train), 3,
                    org.influence4j.calculators.attribution.TopKOrder.PROPONENTS);
            org.influence4j.calculators.attribution.TopK reference = org.influence4j.calculators.attribution.TopK
                    .ofMatrix(expected, m, n, 3, org.influence4j.calculators.attribution.TopKOrder.PROPONENTS);
            for (int i = 0; i < m; i++) {
                assertTrue(TestSupport.relErr(top.scores(i), reference.scores(i)) < 1e-12, layers + " top-3 of " + i);
            }
            assertTrue(selfErr < 1e-12, spec.isGraph() + " " + layers + " self-influence relative error " + selfErr);
        }
    }
}
