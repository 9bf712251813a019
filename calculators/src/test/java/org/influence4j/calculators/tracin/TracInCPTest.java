package org.influence4j.calculators.tracin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.internal.Waves;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.influence4j.calculators.training.Checkpoint;
import org.influence4j.calculators.training.Checkpoints;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TracInCP against Σ_c η_c ⟨g_c(t), g_c(z)⟩ computed in plain Java from closed-form logistic gradients. */
class TracInCPTest {

    private static final int D = 4;
    private static final int P = D + 1;
    private static final double[] RATES = {0.3, 0.1, 0.05};
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final Batch train = Fixtures.logisticData(37, D, 51);
    private final Batch test = Fixtures.logisticData(5, D, 52);
    private final DataSource trainSource = new InMemoryDataSource(train);
    private final double[][] thetas = new double[RATES.length][];
    private final List<Checkpoint> written = new ArrayList<>();
    @TempDir
    Path dir;

    @BeforeEach
    void writeCheckpoints() throws IOException {
        for (int c = 0; c < RATES.length; c++) {
            thetas[c] = Fixtures.parameters(P, 60 + c);
            written.add(Checkpoints.write(dir, spec, thetas[c], RATES[c], c + 1, 10L * (c + 1)));
        }
    }

    /** Σ_c η_c ⟨g_c(t), g_c(z)⟩ over the parameter indices {@code [from, to)} */
    private double[] reference(Batch t, Batch z, int from, int to) {
        double[] out = new double[t.size() * z.size()];
        for (int c = 0; c < RATES.length; c++) {
            double[][] gt = Fixtures.logisticGradients(t, thetas[c]);
            double[][] gz = Fixtures.logisticGradients(z, thetas[c]);
            for (int i = 0; i < t.size(); i++) {
                for (int j = 0; j < z.size(); j++) {
                    double s = 0;
                    for (int a = from; a < to; a++) {
                        s += gt[i][a] * gz[j][a];
                    }
                    out[i * z.size() + j] += RATES[c] * s;
                }
            }
        }
        return out;
    }

    private TracInCP tracin(HostModel model, TracInOptions options) {
        return new TracInCP(model, TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT), options);
    }

    @Test
    void selfInfluenceIsTheLearningRateWeightedSumOfSquaredGradientNorms() {
        double[] expected = new double[train.size()];
        for (int c = 0; c < RATES.length; c++) {
            double[][] g = Fixtures.logisticGradients(train, thetas[c]);
            for (int j = 0; j < expected.length; j++) {
                expected[j] += RATES[c] * Fixtures.dot(g[j], g[j]);
            }
        }
        HostModel model = new HostModel(spec, new double[P]);
        double[] self = tracin(model, TracInOptions.defaults().withBatchSize(8)).selfInfluence(trainSource);
        assertArrayEquals(expected, self, 1e-12);
        assertArrayEquals(new double[P], model.parameters(), "parameters restored");
    }

    @Test
    void influencesAndLayerRestrictionMatchTheReference() {
        HostModel model = new HostModel(spec, new double[P]);
        try (HostScope scope = HostBackend.scope()) {
            assertArrayEquals(reference(test, train, 0, P),
                    tracin(model, TracInOptions.defaults()).influences(test, train, scope).toDoubleArray(), 1e-12);
            assertArrayEquals(reference(test, train, D, P),
                    tracin(model, TracInOptions.defaults().withLayers("0.bias")).influences(test, train, scope)
                            .toDoubleArray(), 1e-12);
            assertArrayEquals(reference(test, train, 0, D),
                    tracin(model, TracInOptions.defaults().withLayers("0.weight")).influences(test, train, scope)
                            .toDoubleArray(), 1e-12);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tracin(model, TracInOptions.defaults().withLayers("3.weight")));
        assertTrue(e.getMessage().contains("3.weight"), e.getMessage());
    }

    /**
     * Training chunks of 8 (five, the last short): with 5 test rows a sample's gradient (5 values)
     * is no wider than the test rows, so the chunks' gradients are joined and paired once; with 3
     * test rows the chunks' scores are joined. Both equal the reference.
     */
    @Test
    void chunkedInfluencesJoinRepresentationsOrScoresAlike() {
        TracInCP t = tracin(new HostModel(spec, new double[P]), TracInOptions.defaults().withBatchSize(8));
        try (HostScope scope = HostBackend.scope()) {
            for (Batch queries : List.of(test, test.slice(0, 3))) {
                assertArrayEquals(reference(queries, train, 0, P), t.influences(queries, train, scope).toDoubleArray(),
                        1e-12, queries.size() + " test rows");
            }
        }
    }

    @Test
    void streamingTopKEqualsTopKOfTheFullMatrix() {
        double[] full = reference(test, train, 0, P);
        assertTopKOfTheMatrix(full, tracin(new HostModel(spec, new double[P]),
                TracInOptions.defaults().withBatchSize(6)));
    }

    /** Every order's top-7 of {@code t} equals that of the full matrix {@code full} (test × train). */
    private void assertTopKOfTheMatrix(double[] full, TracInCP t) {
        for (TopKOrder order : TopKOrder.values()) {
            TopK expected = TopK.ofMatrix(full, test.size(), train.size(), 7, order);
            TopK actual = t.topK(test, trainSource, 7, order);
            assertArrayEquals(expected.indices(), actual.indices());
            for (int i = 0; i < test.size(); i++) {
                assertArrayEquals(expected.scores(i), actual.scores(i), 1e-12);
            }
        }
    }

    /**
     * A budget of gradient columns (here 5 float64 values a sample with a layer named: 40 bytes)
     * lowers the batch size to what fits (200 bytes: 5 samples), and the test points go in slices
     * whose columns at all 3 checkpoints fit their budget (200 bytes: 1 of the 5; 240: 2), each slice
     * represented batch by batch where it exceeds the batch budget (40 bytes: batches of 1):
     * influences, top-k and self-influence still equal the reference.
     */
    @Test
    void aColumnBudgetShrinksBatchesAndSlicesTheTestPointsWithTheSameScores() {
        double[] full = reference(test, train, 0, P);
        HostModel model = new HostModel(spec, new double[P]);
        TracInCP t = new TracInCP(model, TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT),
                TracInOptions.defaults().withLayers("0.weight", "0.bias"), 200, 200);
        assertEquals(5, t.options().batchSize());
        assertEquals(1, t.testSlice(test.size()), "3 checkpoints x 40 bytes: one test point in 200 bytes");
        TracInCP two = new TracInCP(model, TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT),
                TracInOptions.defaults().withLayers("0.weight", "0.bias"), 200, 240);
        assertEquals(2, two.testSlice(test.size()));
        TracInCP pieces = new TracInCP(model, TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT),
                TracInOptions.defaults().withLayers("0.weight", "0.bias"), 40, 240);
        assertEquals(1, pieces.options().batchSize());
        for (TracInCP sliced : List.of(t, two, pieces)) {
            try (HostScope scope = HostBackend.scope()) {
                assertArrayEquals(full, sliced.influences(test, train, scope).toDoubleArray(), 1e-12);
            }
            assertTopKOfTheMatrix(full, sliced);
            double[] self = sliced.selfInfluence(trainSource);
            for (int j = 0; j < train.size(); j++) {
                assertEquals(reference(train.slice(j, j + 1), train.slice(j, j + 1), 0, P)[0], self[j], 1e-12);
            }
        }
        assertArrayEquals(new double[P], model.parameters(), "parameters restored");
    }

    /**
     * Checkpoints computed at once (2 threads: waves of checkpoints {0, 1} and {2}; 3 threads: one
     * wave) give the reference's scores for self-influence, influences and top-k, with the model's
     * parameters restored and every replica closed.
     */
    @Test
    void checkpointsOnSeveralThreadsEqualTheReference() {
        double[] full = reference(test, train, 0, P);
        for (int threads : new int[] {2, 3}) {
            HostModel model = new HostModel(spec, new double[P]);
            TracInCP t = tracin(model, TracInOptions.defaults().withBatchSize(8).withThreads(threads));
            double[] self = t.selfInfluence(trainSource);
            double[] one = tracin(new HostModel(spec, new double[P]), TracInOptions.defaults().withBatchSize(8)
                    .withThreads(1)).selfInfluence(trainSource);
            assertArrayEquals(one, self, 0.0, threads + " threads: self-influence added in checkpoint order");
            try (HostScope scope = HostBackend.scope()) {
                assertArrayEquals(full, t.influences(test, train, scope).toDoubleArray(), 1e-12, threads + " threads");
            }
            TopK expected = TopK.ofMatrix(full, test.size(), train.size(), 7, TopKOrder.PROPONENTS);
            TopK actual = t.topK(test, trainSource, 7, TopKOrder.PROPONENTS);
            assertArrayEquals(expected.indices(), actual.indices());
            assertArrayEquals(new double[P], model.parameters(), "parameters restored");
            assertEquals(1 + 3 * (threads - 1), model.replicas().size(), "one checked by the constructor, threads - 1 per call");
            assertTrue(model.replicas().stream().allMatch(HostModel::isClosed), "replicas closed");
        }
    }

    /**
     * A failure on a pool thread (the data's second pass, checkpoint 1's) reaches the caller as it is,
     * after the wave, with the parameters restored and the replicas closed.
     */
    @Test
    void aFailureOnAPoolThreadReachesTheCaller() {
        java.util.concurrent.atomic.AtomicInteger passes = new java.util.concurrent.atomic.AtomicInteger();
        DataSource failingSecondPass = new DataSource() {
            @Override
            public long size() {
                return trainSource.size();
            }

            @Override
            public int numFeatures() {
                return trainSource.numFeatures();
            }

            @Override
            public int labelWidth() {
                return trainSource.labelWidth();
            }

            @Override
            public java.util.Iterator<Batch> batches(int batchSize) {
                if (passes.incrementAndGet() == 2) {
                    throw new IllegalStateException("second pass refused");
                }
                return trainSource.batches(batchSize);
            }
        };
        HostModel model = new HostModel(spec, new double[P]);
        TracInCP t = tracin(model, TracInOptions.defaults().withThreads(3));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.selfInfluence(failingSecondPass));
        assertEquals("second pass refused", e.getMessage());
        assertEquals(3, passes.get(), "the whole wave ran");
        assertArrayEquals(new double[P], model.parameters(), "parameters restored");
        assertTrue(model.replicas().stream().allMatch(HostModel::isClosed), "replicas closed");
    }

    @Test
    void threadsNeedAModelThatCanBeReplicatedUnlessChosenAutomatically() {
        HostModel single = HostModel.withoutReplicas(spec, new double[P]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tracin(single, TracInOptions.defaults().withThreads(2)));
        assertTrue(e.getMessage().startsWith("threads: 2 needs replicas of the model"), e.getMessage());
        assertTrue(e.getMessage().contains("withThreads(1)"), e.getMessage());
        // automatic: this backend does not set intra-op threads per thread, so one thread and no replica
        HostModel model = new HostModel(spec, new double[P]);
        tracin(model, TracInOptions.defaults()).selfInfluence(trainSource);
        assertEquals(List.of(), model.replicas());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TracInOptions.defaults().withThreads(-1))
                .getMessage().startsWith("threads:"));
        // the automatic choice keeps the replicas' parameters within 256 MiB
        assertEquals(2, Waves.automaticThreads(48_000, 2), "a CNN's 12k float32 parameters");
        assertEquals(3, Waves.automaticThreads(128L << 20, 8), "two replicas of 128 MiB");
        assertEquals(1, Waves.automaticThreads(257L << 20, 2), "no replica over 256 MiB");
        assertEquals(1, Waves.automaticThreads(48_000, 0), "a backend that does not set threads");
    }

    @Test
    void checkpointsFromFilesAndIteratorsEqualTheDirectory() {
        List<Path> files = written.stream().map(Checkpoint::file).toList();
        TracInCheckpoints fromFiles = TracInCheckpoints.fromFiles(files, RATES, spec, CheckpointLoader.DEFAULT);
        TracInCheckpoints fromIterator = TracInCheckpoints.fromIterator(written.iterator(), spec, CheckpointLoader.DEFAULT);
        // a custom loader: the same parameters from memory
        TracInCheckpoints custom = TracInCheckpoints.load(written, spec, (c, s) -> thetas[c.epoch() - 1].clone());
        double[] expected = reference(test, train, 0, P);
        try (HostScope scope = HostBackend.scope()) {
            for (TracInCheckpoints cps : List.of(fromFiles, fromIterator, custom)) {
                TracInCP t = new TracInCP(new HostModel(spec, new double[P]), cps, TracInOptions.defaults());
                assertArrayEquals(expected, t.influences(test, train, scope).toDoubleArray(), 1e-12);
            }
        }
    }

    @Test
    void missingCorruptAndMismatchedCheckpointsAreRejected() throws IOException {
        Path missing = dir.resolve("nope.safetensors");
        UncheckedIOException e1 = assertThrows(UncheckedIOException.class,
                () -> TracInCheckpoints.fromFiles(List.of(missing), new double[] {0.1}, spec, CheckpointLoader.DEFAULT));
        assertTrue(e1.getMessage().contains("nope.safetensors"), e1.getMessage());
        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        UncheckedIOException e2 = assertThrows(UncheckedIOException.class,
                () -> TracInCheckpoints.fromFiles(List.of(corrupt), new double[] {0.1}, spec, CheckpointLoader.DEFAULT));
        assertTrue(e2.getMessage().contains("corrupt.safetensors"), e2.getMessage());
        ModelSpec bigger = Fixtures.dense(D + 2, 1, Loss.BINARY_LOGISTIC);
        Path other = dir.resolve("other");
        Checkpoint wrong = Checkpoints.write(other, bigger, new double[D + 3], 0.1, 1, 1);
        UncheckedIOException e3 = assertThrows(UncheckedIOException.class,
                () -> TracInCheckpoints.load(List.of(wrong), spec, CheckpointLoader.DEFAULT));
        assertTrue(e3.getMessage().contains(wrong.file().getFileName().toString()), e3.getMessage());
        IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class,
                () -> TracInCheckpoints.load(written, spec, (c, s) -> new double[P + 1]));
        assertTrue(e4.getMessage().contains("parameters"), e4.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> TracInCheckpoints.fromFiles(List.of(missing), new double[] {0.1, 0.2}, spec, CheckpointLoader.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> TracInCheckpoints.load(List.of(), spec, CheckpointLoader.DEFAULT));
    }

    @Test
    void badTopKArgumentsAreRejected() {
        TracInCP t = tracin(new HostModel(spec, new double[P]), TracInOptions.defaults());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> t.topK(test, trainSource, 0, TopKOrder.PROPONENTS)).getMessage().startsWith("k:"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> t.topK(test, trainSource, train.size() + 1, TopKOrder.OPPONENTS)).getMessage().startsWith("k:"));
        Batch empty = new Batch(new double[0], D, new double[0], 1);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> t.topK(empty, trainSource, 1, TopKOrder.PROPONENTS)).getMessage().startsWith("test:"));
        try (HostScope scope = HostBackend.scope()) {
            assertThrows(IllegalArgumentException.class, () -> t.influences(empty, train, scope));
        }
        assertEquals(P, t.gradientDimension());
    }
}
