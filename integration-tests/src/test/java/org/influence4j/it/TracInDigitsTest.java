package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.attribution.FirstOrderInfluenceCalculator;
import org.influence4j.calculators.attribution.FirstOrderOptions;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.RandProjOptions;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCPFastRandProj;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.TrainingResult;
import org.influence4j.calculators.validation.Correlation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TracIn family on the digits MLP (PyTorch backend, float64): TracInCPFast against TracInCP
 * restricted to the last layer, random projections against TracInCPFast, and mislabel detection
 * by self-influence.
 */
class TracInDigitsTest {

    private static final Logger LOG = LoggerFactory.getLogger(TracInDigitsTest.class);

    @TempDir
    static Path dir;
    static FlippedDigitsFixture data;
    static TwiceDifferentiable model;
    static TracInCheckpoints checkpoints;
    static DataSource trainSource;

    @BeforeAll
    static void train() {
        data = new FlippedDigitsFixture(0);
        Backend backend = new PtBackendProvider().create();
        model = backend.createModel(FlippedDigitsFixture.SPEC, data.initial);
        long start = System.nanoTime();
        TrainingResult result = data.train(model, dir);
        LOG.info("digits MLP trained in {} ms: {} checkpoints, final objective {}", (System.nanoTime() - start) / 1_000_000,
                result.checkpoints().size(), result.loss());
        checkpoints = TracInCheckpoints.fromDirectory(dir, FlippedDigitsFixture.SPEC, CheckpointLoader.DEFAULT);
        trainSource = new InMemoryDataSource(data.train);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    private static double maxRelDiff(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length);
        double scale = Arrays.stream(expected).map(Math::abs).max().orElse(1);
        double d = 0;
        for (int i = 0; i < expected.length; i++) {
            d = Math.max(d, Math.abs(expected[i] - actual[i]));
        }
        return d / scale;
    }

    @Test
    void fastEqualsTracInCPRestrictedToTheLastLayer() {
        assertEquals(6, checkpoints.size());
        Batch test = data.test.slice(0, 25);
        Batch train = data.train.slice(0, 300);
        try (TensorScope scope = model.backend().newScope()) {
            for (boolean bias : new boolean[] {false, true}) {
                TracInOptions restricted = bias ? TracInOptions.defaults().withLayers("2.weight", "2.bias")
                        : TracInOptions.defaults().withLayers("2.weight");
                TracInCP slow = new TracInCP(model, checkpoints, restricted);
                TracInCPFast fast = new TracInCPFast(model, checkpoints, 128, bias);
                double[] expected = slow.influences(test, train, scope).toDoubleArray();
                double[] actual = fast.influences(test, train, scope).toDoubleArray();
                double d = maxRelDiff(expected, actual);
                double[] selfSlow = slow.selfInfluence(trainSource);
                double[] selfFast = fast.selfInfluence(trainSource);
                double ds = maxRelDiff(selfSlow, selfFast);
                LOG.info("TracInCPFast vs TracInCP[last layer{}]: max relative difference {} (influences), {} (self)",
                        bias ? " + bias" : "", d, ds);
                assertTrue(d <= 1e-6, "influences differ by " + d);
                assertTrue(ds <= 1e-6, "self-influences differ by " + ds);
                TopK a = slow.topK(test, trainSource, 10, TopKOrder.PROPONENTS);
                TopK b = fast.topK(test, trainSource, 10, TopKOrder.PROPONENTS);
                assertEquals(Arrays.deepToString(a.indices()), Arrays.deepToString(b.indices()));
            }
        }
    }

    /**
     * TracInCP and TracInCPFast with checkpoints computed two at a time (each on its own thread, the
     * second with a replica of the model and one libtorch intra-op thread each) equal one thread:
     * self-influence, influences and top-k. The calling thread's intra-op threads and the model's
     * parameters are restored (after a failure too: TracInCPTest).
     */
    @Test
    void checkpointsOnTwoThreadsEqualOneThread() {
        Batch test = data.test.slice(0, 25);
        Batch train = data.train.slice(0, 300);
        int opThreads = model.backend().callingThreadOpThreads();
        double[] parameters = model.parameters();
        TracInOptions one = TracInOptions.defaults().withBatchSize(128).withThreads(1);
        List<TracInCP> cp = List.of(new TracInCP(model, checkpoints, one), new TracInCP(model, checkpoints, one
                .withThreads(2)));
        List<TracInCPFast> fast = List.of(new TracInCPFast(model, checkpoints, false, one),
                new TracInCPFast(model, checkpoints, false, one.withThreads(2)));
        try (TensorScope scope = model.backend().newScope()) {
            for (List<? extends TrainingDataAttribution> pair : List.of(cp, fast)) {
                double ds = maxRelDiff(pair.get(0).selfInfluence(trainSource), pair.get(1).selfInfluence(trainSource));
                double d = maxRelDiff(pair.get(0).influences(test, train, scope).toDoubleArray(),
                        pair.get(1).influences(test, train, scope).toDoubleArray());
                LOG.info("{} on 2 threads vs 1: max relative difference {} (influences), {} (self)", pair.get(0), d, ds);
                assertTrue(d <= 1e-12, "influences differ by " + d);
                assertTrue(ds <= 1e-12, "self-influences differ by " + ds);
                TopK a = pair.get(0).topK(test, trainSource, 10, TopKOrder.PROPONENTS);
                TopK b = pair.get(1).topK(test, trainSource, 10, TopKOrder.PROPONENTS);
                assertEquals(Arrays.deepToString(a.indices()), Arrays.deepToString(b.indices()));
                assertEquals(opThreads, model.backend().callingThreadOpThreads(), "intra-op threads restored");
                assertTrue(Arrays.equals(parameters, model.parameters()), "parameters restored");
            }
        }
    }

    @Test
    void randomProjectionsKeepTheRankingOfTracInCPFast() {
        Batch test = data.test.slice(0, 20);
        TracInCPFast fast = new TracInCPFast(model, checkpoints, 256, false);
        double[] selfFast = fast.selfInfluence(trainSource);
        double[] scoresFast;
        try (TensorScope scope = model.backend().newScope()) {
            scoresFast = fast.influences(test, data.train, scope).toDoubleArray();
            TracInCPFastRandProj exact = new TracInCPFastRandProj(model, checkpoints, trainSource, RandProjOptions.of(0));
            assertTrue(maxRelDiff(scoresFast, exact.influences(test, data.train, scope).toDoubleArray()) <= 1e-9);
            assertTrue(maxRelDiff(selfFast, exact.selfInfluence(trainSource)) <= 1e-9);
        }
        // softmax δ sums to zero, so G = Σ δδᵀ has rank 9: FACTOR_PCA at d = 9·32 spans every
        // last-layer gradient (288 < out·in = 320 entries) and must reproduce TracInCPFast
        try (TensorScope scope = model.backend().newScope()) {
            TracInCPFastRandProj lossless = new TracInCPFastRandProj(model, checkpoints, trainSource, RandProjOptions.of(288));
            assertEquals(6 * 288, lossless.dimension());
            assertTrue(maxRelDiff(scoresFast, lossless.influences(test, data.train, scope).toDoubleArray()) <= 1e-9);
            assertTrue(maxRelDiff(selfFast, lossless.selfInfluence(trainSource)) <= 1e-9);
        }
        int n = data.train.size();
        for (RandProjOptions.Projection projection : RandProjOptions.Projection.values()) {
            for (int dim : new int[] {64, 128, 256}) {
                TracInCPFastRandProj proj = new TracInCPFastRandProj(model, checkpoints, trainSource,
                        RandProjOptions.of(dim).withProjection(projection).withSeed(3));
                double self = Correlation.spearman(selfFast, proj.selfInfluence(trainSource));
                double[] perTest = new double[test.size()];
                double[] scores;
                try (TensorScope scope = model.backend().newScope()) {
                    scores = proj.influences(test, data.train, scope).toDoubleArray();
                }
                for (int i = 0; i < test.size(); i++) {
                    perTest[i] = Correlation.spearman(Arrays.copyOfRange(scoresFast, i * n, (i + 1) * n),
                            Arrays.copyOfRange(scores, i * n, (i + 1) * n));
                }
                double meanScores = Arrays.stream(perTest).average().orElseThrow();
                // the exact search over the stored vectors equals the top-k of the projected score matrix
                TopK top = proj.topK(test, trainSource, 10, TopKOrder.OPPONENTS);
                assertEquals(Arrays.deepToString(TopK.ofMatrix(scores, test.size(), n, 10, TopKOrder.OPPONENTS).indices()),
                        Arrays.deepToString(top.indices()));
                LOG.info("RandProj {} dim {} (D = {}): Spearman with TracInCPFast: self-influence {}, influence scores"
                        + " mean {} (min {})", projection, dim, proj.dimension(), self, meanScores,
                        Arrays.stream(perTest).min().orElseThrow());
                // the default (FACTOR_PCA) must keep the ranking; Captum's KRONECKER is only reported
                if (projection == RandProjOptions.of(dim).projection()) {
                    assertTrue(self >= 0.9, "self-influence Spearman " + self + " at dim " + dim);
                    assertTrue(meanScores >= 0.9, "mean influence Spearman " + meanScores + " at dim " + dim);
                }
            }
        }
    }

    private double[] recall(double[] selfInfluence, double[] fractions) {
        int n = selfInfluence.length;
        long flippedTotal = 0;
        for (boolean f : data.flipped) {
            flippedTotal += f ? 1 : 0;
        }
        double[] out = new double[fractions.length];
        for (int f = 0; f < fractions.length; f++) {
            int k = (int) Math.round(fractions[f] * n);
            TopK top = TopK.ofMatrix(selfInfluence, 1, n, k, TopKOrder.PROPONENTS);
            long found = Arrays.stream(top.indices(0)).filter(i -> data.flipped[(int) i]).count();
            out[f] = (double) found / flippedTotal;
        }
        return out;
    }

    private static final double[] FRACTIONS = {0.05, 0.10, 0.20, 0.30};

    @Test
    void tracInSelfInfluenceFindsFlippedLabels() {
        long t0 = System.nanoTime();
        double[] tracin = new TracInCP(model, checkpoints, TracInOptions.defaults()).selfInfluence(trainSource);
        long t1 = System.nanoTime();
        double[] recall = recall(tracin, FRACTIONS);
        LOG.info("mislabel recall at inspected fractions {}: TracInCP self-influence {} ({} ms)",
                Arrays.toString(FRACTIONS), Arrays.toString(recall), (t1 - t0) / 1_000_000);
        assertTrue(recall[1] >= 0.8, "TracInCP recall at 10%: " + recall[1]);
    }

    /**
     * Builds and factorises the dense 2410 x 2410 Hessian (minutes on 2 cores): run with
     * {@code -Dinfluence4j.reports=true}.
     */
    @Test
    @EnabledIfSystemProperty(named = "influence4j.reports", matches = "true")
    void influenceFunctionSelfInfluenceFindsFlippedLabels() {
        double[] before = model.parameters();
        model.setParameters(checkpoints.parameters(checkpoints.size() - 1));
        long t0 = System.nanoTime();
        double[] self;
        try (FirstOrderInfluenceCalculator c = new FirstOrderInfluenceCalculator(model, trainSource, new DirectSolver(),
                FirstOrderOptions.of(0.1))) {
            self = c.selfInfluence(trainSource);
        } finally {
            model.setParameters(before);
        }
        long t1 = System.nanoTime();
        double[] recall = recall(self, FRACTIONS);
        LOG.info("mislabel recall at inspected fractions {}: influence-function self-influence (direct, λ = 0.1,"
                + " final checkpoint) {} ({} ms)", Arrays.toString(FRACTIONS), Arrays.toString(recall),
                (t1 - t0) / 1_000_000);
        assertTrue(recall[1] >= 0.5, "influence-function recall at 10%: " + recall[1]);
    }
}
