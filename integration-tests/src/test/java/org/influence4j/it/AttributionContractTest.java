package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.FirstOrderInfluenceCalculator;
import org.influence4j.calculators.attribution.FirstOrderOptions;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.attribution.RelatIf;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.attribution.VectorCache;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.RandProjOptions;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCPFastRandProj;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.InfluenceModelFactory;
import org.influence4j.registry.InfluenceModule;
import org.influence4j.registry.InfluenceSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link TrainingDataAttribution}, the same for every method on every available
 * backend: every inverse-curvature method through the adapter ({@link InfluenceFunctionAttribution}
 * over the registry's Direct, CG, LiSSA, Arnoldi, Nyström and EK-FAC), first-order influence with
 * both RelatIF normalisations, and the TracIn family (CP, CPFast, RandProj). On a small layer-graph
 * classifier (breast cancer, 30 → 4 tanh → 2, float64, Gauss-Newton curvature so that every
 * method's curvature is positive definite), with a training set holding an exact duplicate:
 * <ul>
 *   <li>shapes: influences {@code [m, n]}, n self-influences;</li>
 *   <li>self-influence = the diagonal of the train-on-train influences, and positive (sign:
 *       a point is its own proponent);</li>
 *   <li>top-k (both orders) = the top-k of the full influence matrix ({@link TopK#ofMatrix}), and
 *       top-k by self-influence = the top-k of the self-influences;</li>
 *   <li>ties: a training point and its duplicate score alike, the smaller index ranks first;</li>
 *   <li>bad k (0, n + 1) → an IllegalArgumentException naming k.</li>
 * </ul>
 */
class AttributionContractTest {

    private static final double LAMBDA = 1.0;
    private static final int N = 24;
    /** Training point {@code N - 1} is a copy of this one. */
    private static final int DUPLICATED = 5;

    @TempDir
    static Path dir;
    static ModelSpec spec;
    static double[] parameters;
    static Batch train;
    static Batch test;
    static TracInCheckpoints checkpoints;

    /** What a method needs: the model on its backend and the training data. */
    @FunctionalInterface
    interface Method {
        TrainingDataAttribution create(TwiceDifferentiable model, List<AutoCloseable> resources);
    }

    @BeforeAll
    static void trainAClassifier() throws IOException {
        spec = ModelSpec.fromJson("{\"format\": 2, \"input\": {\"shape\": [30]}, \"layers\": ["
                + "{\"op\": \"dense\", \"in_features\": 30, \"out_features\": 4}, {\"op\": \"tanh\"},"
                + "{\"op\": \"dense\", \"in_features\": 4, \"out_features\": 2}],"
                + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float64\"}");
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        Batch first = data.slice(0, N - 1);
        double[] x = new double[N * 30];
        double[] y = new double[N];
        System.arraycopy(first.x(), 0, x, 0, (N - 1) * 30);
        System.arraycopy(first.y(), 0, y, 0, N - 1);
        System.arraycopy(first.x(), DUPLICATED * 30, x, (N - 1) * 30, 30);
        y[N - 1] = first.y()[DUPLICATED];
        train = new Batch(x, 30, y, 1);
        test = data.slice(300, 306);
        Backend reference = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        List<Path> files = new ArrayList<>();
        try (TwiceDifferentiable model = reference.createModel(spec, spec.initialParameters(3))) {
            for (int epoch = 0; epoch < 3; epoch++) {
                new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.05), 1, 8, epoch))
                        .train(model, new InMemoryDataSource(train));
                double[] theta = model.parameters();
                Path file = dir.resolve("epoch-" + epoch + ".npy");
                Npy.write(file, new HostArray(theta, new long[] {theta.length}, DType.FLOAT64));
                files.add(file);
            }
            parameters = model.parameters();
        }
        checkpoints = TracInCheckpoints.fromFiles(files, new double[] {0.05, 0.05, 0.05}, spec,
                CheckpointLoader.DEFAULT);
    }

    private static Method inverse(InversionMethod method, Map<String, String> settings) {
        return (model, resources) -> {
            InfluenceSettings s = new InfluenceSettings(model.backend().name(), method, LAMBDA, 16,
                    Map.of(method, SolverSettings.of(settings)), Curvature.GAUSS_NEWTON);
            InfluenceModelFactory factory = Guice.createInjector(new InfluenceModule(s))
                    .getInstance(InfluenceModelFactory.class);
            InfluenceFunctionModel influence = factory.create(model);
            resources.add(influence);
            influence.fit(new InMemoryDataSource(train));
            return new InfluenceFunctionAttribution(model, influence, 16);
        };
    }

    private static Method firstOrder(RelatIf normalization) {
        return (model, resources) -> {
            FirstOrderInfluenceCalculator calculator = new FirstOrderInfluenceCalculator(model,
                    new InMemoryDataSource(train), new DirectSolver(),
                    new FirstOrderOptions(new InfluenceOptions(LAMBDA, 16, Curvature.GAUSS_NEWTON), normalization,
                            false, VectorCache.NONE, null));
            resources.add(calculator);
            return calculator;
        };
    }

    static Map<String, Method> methods() {
        Map<String, Method> m = new java.util.LinkedHashMap<>();
        m.put("direct", inverse(InversionMethod.DIRECT, Map.of()));
        m.put("cg", inverse(InversionMethod.CG, Map.of("rtol", "1e-12", "atol", "1e-14", "maxiter", "500")));
        // dampening d = 0.5 adds s·d = 5 to λ: the iteration contracts by 0.4 or better, 30 iterations
        m.put("lissa", inverse(InversionMethod.LISSA, Map.of("scale", "10", "dampen", "0.5", "rtol", "1e-11",
                "maxiter", "200", "batch_size", "0")));
        m.put("arnoldi", inverse(InversionMethod.ARNOLDI, Map.of("rank_estimate", "8", "seed", "1")));
        m.put("nystroem", inverse(InversionMethod.NYSTROEM, Map.of("rank", "8", "seed", "1")));
        m.put("ekfac", inverse(InversionMethod.EKFAC, Map.of("update_diagonal", "true")));
        m.put("first-order theta-relative", firstOrder(RelatIf.THETA_RELATIVE));
        m.put("first-order loss-relative", firstOrder(RelatIf.LOSS_RELATIVE));
        m.put("tracin-cp", (model, resources) -> new TracInCP(model, checkpoints, TracInOptions.defaults()));
        m.put("tracin-cp-fast", (model, resources) -> new TracInCPFast(model, checkpoints, 16, true));
        m.put("tracin-randproj", (model, resources) -> new TracInCPFastRandProj(model, checkpoints,
                new InMemoryDataSource(train), RandProjOptions.of(3)));
        return m;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            for (String method : methods().keySet()) {
                out.add(Arguments.of(method, backend));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void everyMethodKeepsTheContract(String name, String backendName) throws Exception {
        Backend backend = BackendDiscovery.load().require(backendName);
        List<AutoCloseable> resources = new ArrayList<>();
        try (TwiceDifferentiable model = backend.createModel(spec, parameters);
             TensorScope scope = backend.newScope()) {
            TrainingDataAttribution method = methods().get(name).create(model, resources);
            DataSource source = new InMemoryDataSource(train);
            int m = test.size();

            double[] influences = method.influences(test, train, scope).toDoubleArray();
            assertEquals(m * N, influences.length, name + ": influences are [m, n]");
            double[] self = method.selfInfluence(source);
            assertEquals(N, self.length, name + ": n self-influences");
            double[] square = method.influences(train, train, scope).toDoubleArray();
            double scale = 0;
            for (double v : self) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < N; i++) {
                assertTrue(self[i] > 0, name + ": self-influence " + i + " = " + self[i] + " is not positive");
                assertEquals(square[i * N + i], self[i], 1e-7 * scale, name + ": self-influence " + i
                        + " is not the diagonal of the influences");
            }
            assertEquals(self[DUPLICATED], self[N - 1], 1e-9 * scale, name + ": a duplicate scores alike");

            for (TopKOrder order : TopKOrder.values()) {
                TopK expected = TopK.ofMatrix(influences, m, N, 5, order);
                TopK actual = method.topK(test, source, 4, order);
                for (int t = 0; t < m; t++) {
                    assertSameSelection(name + " " + order + " test " + t, expected.indices(t), expected.scores()[t],
                            actual.indices(t), actual.scores()[t]);
                    tiesByIndex(name, actual, t);
                }
                TopK bySelf = method.topKSelfInfluence(source, 5, order);
                TopK selfExpected = TopK.ofMatrix(self, 1, N, 6, order);
                assertSameSelection(name + " top-k by self-influence " + order, selfExpected.indices(0),
                        selfExpected.scores()[0], bySelf.indices(0), bySelf.scores()[0]);
            }
            List<TopK> both = method.topK(test, source, 4, List.of(TopKOrder.PROPONENTS, TopKOrder.OPPONENTS));
            for (int o = 0; o < 2; o++) {
                TopK single = method.topK(test, source, 4, TopKOrder.values()[o]);
                for (int t = 0; t < m; t++) {
                    assertEquals(java.util.Arrays.toString(single.indices(t)),
                            java.util.Arrays.toString(both.get(o).indices(t)), name + ": top-k of both orders at once");
                }
            }
            for (int k : new int[] {0, N + 1}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> method.topK(test, source, k, TopKOrder.PROPONENTS));
                assertTrue(e.getMessage().startsWith("k:"), name + ": " + e.getMessage());
            }
        } finally {
            for (AutoCloseable r : resources) {
                r.close();
            }
        }
    }

    /**
     * The same selection up to rounding: equal scores rank by rank (relative 1e-7), and equal indices
     * wherever the expected score is apart from its neighbours by more than that (near-ties, such as
     * a point and its duplicate in different chunks, may order differently when two computations
     * round differently).
     *
     * @param expectedIndices the expected top k + 1 (the extra one tells whether rank k - 1 is apart)
     */
    private static void assertSameSelection(String what, long[] expectedIndices, double[] expectedScores,
                                            long[] actualIndices, double[] actualScores) {
        int k = actualIndices.length;
        assertEquals(expectedIndices.length, k + 1, what);
        double scale = 0;
        for (double v : expectedScores) {
            scale = Math.max(scale, Math.abs(v));
        }
        double tol = 1e-7 * scale + 1e-300;
        for (int r = 0; r < k; r++) {
            assertEquals(expectedScores[r], actualScores[r], tol, what + ": score at rank " + r);
            boolean apart = (r == 0 || Math.abs(expectedScores[r] - expectedScores[r - 1]) > tol)
                    && Math.abs(expectedScores[r] - expectedScores[r + 1]) > tol;
            if (apart) {
                assertEquals(expectedIndices[r], actualIndices[r], what + ": index at rank " + r + "; expected scores "
                        + java.util.Arrays.toString(expectedScores) + ", got " + java.util.Arrays.toString(actualScores));
            }
        }
    }

    /** Where a point and its duplicate are both selected with equal scores, the smaller index comes first. */
    private static void tiesByIndex(String name, TopK topK, int row) {
        long[] indices = topK.indices(row);
        List<Long> list = new ArrayList<>();
        for (long i : indices) {
            list.add(i);
        }
        int a = list.indexOf((long) DUPLICATED);
        int b = list.indexOf((long) N - 1);
        if (a >= 0 && b >= 0 && topK.scores()[row][a] == topK.scores()[row][b]) {
            assertTrue(a < b, name + ": tie between " + DUPLICATED + " and " + (N - 1) + " not broken by index");
        }
    }
}
