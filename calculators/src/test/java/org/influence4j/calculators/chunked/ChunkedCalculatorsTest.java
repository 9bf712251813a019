package org.influence4j.calculators.chunked;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CancellationException;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.RecordingProgress;
import org.junit.jupiter.api.Test;

class ChunkedCalculatorsTest {

    private static final int D = 4;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.05;
    private static final ModelSpec SPEC = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private static final Batch TRAIN = Fixtures.logisticData(23, D, 51);
    private static final Batch TEST = Fixtures.logisticData(9, D, 52);
    private static final double[] THETA = Fixtures.parameters(P, 53);

    /** A fresh fitted direct-influence worker on the pure-Java reference backend. */
    private static final InfluenceWorkerFactory FACTORY = InfluenceWorkerFactory.of(P, () -> {
        HostModel model = new HostModel(SPEC, THETA);
        DirectInfluence influence = new DirectInfluence(model, new InfluenceOptions(LAMBDA, 8));
        influence.fit(new InMemoryDataSource(TRAIN));
        return InfluenceWorker.owning(influence, model);
    });

    /** {@code ⟨H⁻¹ g_test_t, g_train_i⟩} from the closed-form logistic gradients and Hessian. */
    private static double[] referenceInfluences() {
        double[][] h = Fixtures.logisticHessian(TRAIN, THETA, LAMBDA);
        double[][] gTest = Fixtures.logisticGradients(TEST, THETA);
        double[][] gTrain = Fixtures.logisticGradients(TRAIN, THETA);
        double[] out = new double[TEST.size() * TRAIN.size()];
        for (int t = 0; t < TEST.size(); t++) {
            double[] z = Fixtures.gaussSolve(h, gTest[t]);
            for (int i = 0; i < TRAIN.size(); i++) {
                out[t * TRAIN.size() + i] = Fixtures.dot(z, gTrain[i]);
            }
        }
        return out;
    }

    private static double[] referenceFactors() {
        double[][] h = Fixtures.logisticHessian(TRAIN, THETA, LAMBDA);
        double[][] gTest = Fixtures.logisticGradients(TEST, THETA);
        double[][] z = new double[TEST.size()][];
        for (int t = 0; t < TEST.size(); t++) {
            z[t] = Fixtures.gaussSolve(h, gTest[t]);
        }
        return Fixtures.flatten(z);
    }

    @Test
    void sequentialInfluencesEqualClosedFormAcrossUnevenChunks() {
        try (InfluenceWorker worker = FACTORY.create()) {
            LazyChunkSequence lazy = new SequentialInfluenceCalculator(worker)
                    .influences(ChunkedData.of(TEST, 4), ChunkedData.of(new InMemoryDataSource(TRAIN), 10));
            assertArrayEquals(new long[] {9, 23}, lazy.layout().shape());
            assertEquals(3 * 3, lazy.layout().numChunks());
            HostArray values = lazy.compute();
            assertArrayEquals(new long[] {9, 23}, values.shape());
            assertTrue(Fixtures.maxAbsDiff(referenceInfluences(), values.data()) < 1e-10);
        }
    }

    @Test
    void factorsAndInfluencesFromFactorsEqualClosedForm() {
        try (InfluenceWorker worker = FACTORY.create()) {
            SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(worker);
            HostArray z = calc.influenceFactors(ChunkedData.of(TEST, 4)).compute();
            assertArrayEquals(new long[] {9, P}, z.shape());
            assertTrue(Fixtures.maxAbsDiff(referenceFactors(), z.data()) < 1e-10);
            HostArray values = calc.influencesFromFactors(ChunkedArray.byRows(z, 5), ChunkedData.of(TRAIN, 7),
                    InfluenceMode.UP).compute();
            assertTrue(Fixtures.maxAbsDiff(referenceInfluences(), values.data()) < 1e-10);
        }
    }

    @Test
    void parallelOnTwoThreadsGivesIdenticalResults() {
        ChunkedData test = ChunkedData.of(TEST, 2);
        ChunkedData train = ChunkedData.of(TRAIN, 5);
        HostArray seqInfl;
        HostArray seqFactors;
        HostArray seqFrom;
        try (InfluenceWorker worker = FACTORY.create()) {
            SequentialInfluenceCalculator seq = new SequentialInfluenceCalculator(worker);
            seqInfl = seq.influences(test, train).compute();
            seqFactors = seq.influenceFactors(test).compute();
            seqFrom = seq.influencesFromFactors(ChunkedArray.byRows(seqFactors, 3), train, InfluenceMode.UP).compute();
        }
        ParallelInfluenceCalculator par = ParallelInfluenceCalculator.perWorker(FACTORY, 2);
        assertArrayEquals(seqInfl.data(), par.influences(test, train).compute().data());
        assertArrayEquals(seqFactors.data(), par.influenceFactors(test).compute().data());
        assertArrayEquals(seqFrom.data(),
                par.influencesFromFactors(ChunkedArray.byRows(seqFactors, 3), train, InfluenceMode.UP).compute().data());
    }

    @Test
    void sharedThreadSafeModelOnTwoThreadsGivesTheExactAssembly() {
        CoordinateModel model = new CoordinateModel(true);
        InfluenceWorker worker = new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
        ParallelInfluenceCalculator par = ParallelInfluenceCalculator.shared(worker, 2);
        HostArray v = par.influences(ChunkedData.of(CoordinateModel.indexData(7, 2), 3),
                ChunkedData.of(CoordinateModel.indexData(11, 2), 4)).compute();
        for (int t = 0; t < 7; t++) {
            for (int i = 0; i < 11; i++) {
                assertEquals(CoordinateModel.up(t, i), v.data()[t * 11 + i]);
            }
        }
        assertEquals(3 * 3, model.calls.get());
    }

    @Test
    void perturbationModeBlocksAreAssembledAsMByNByFeatures() {
        CoordinateModel model = new CoordinateModel(false);
        InfluenceWorker worker = new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
        SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(worker);
        int f = 3;
        LazyChunkSequence lazy = calc.influences(ChunkedData.of(CoordinateModel.indexData(5, f), 2),
                ChunkedData.of(CoordinateModel.indexData(7, f), 3), InfluenceMode.PERTURBATION);
        assertArrayEquals(new long[] {5, 7, f}, lazy.layout().shape());
        HostArray v = lazy.compute();
        for (int t = 0; t < 5; t++) {
            for (int i = 0; i < 7; i++) {
                for (int e = 0; e < f; e++) {
                    assertEquals(CoordinateModel.perturbation(t, i, e), v.data()[(t * 7 + i) * f + e]);
                }
            }
        }
        HostArray z = calc.influenceFactors(ChunkedData.of(CoordinateModel.indexData(5, f), 2)).compute();
        HostArray fromFactors = calc.influencesFromFactors(ChunkedArray.byRows(z, 4),
                ChunkedData.of(CoordinateModel.indexData(7, f), 3), InfluenceMode.PERTURBATION).compute();
        assertArrayEquals(v.data(), fromFactors.data());
    }

    @Test
    void nonThreadSafeModelOnSeveralThreadsIsRefusedUnlessTheCheckIsDisabled() {
        HostModel model = new HostModel(SPEC, THETA);
        DirectInfluence influence = new DirectInfluence(model, LAMBDA);
        InfluenceWorker worker = InfluenceWorker.shared(influence, model);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParallelInfluenceCalculator.shared(worker, 2));
        assertTrue(e.getMessage().contains("not thread-safe"), e.getMessage());
        assertTrue(e.getMessage().contains("perWorker"), e.getMessage());
        assertTrue(e.getMessage().contains("DisableClientSingleThreadCheck"), e.getMessage());
        assertEquals(1, ParallelInfluenceCalculator.shared(worker, 1).threads());
        assertEquals(2, ParallelInfluenceCalculator.shared(worker, 2, ThreadSafetyCheck.DISABLED).threads());
    }

    @Test
    void misalignedChunkingAndChunkedFeatureDimensionsAreRefused() {
        HostArray x = new HostArray(new double[6 * 2], new long[] {6, 2}, DType.FLOAT64);
        HostArray y = new HostArray(new double[6], new long[] {6}, DType.FLOAT64);
        IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class, () -> ChunkedData.of(
                ChunkedArray.of(x, new long[] {3, 3}, new long[] {2}), ChunkedArray.of(y, new long[] {2, 4})));
        assertTrue(misaligned.getMessage().contains("misaligned chunking"), misaligned.getMessage());
        IllegalArgumentException featureChunks = assertThrows(IllegalArgumentException.class, () -> ChunkedData.of(
                ChunkedArray.of(x, new long[] {3, 3}, new long[] {1, 1}), ChunkedArray.of(y, new long[] {3, 3})));
        assertTrue(featureChunks.getMessage().startsWith("x: chunked along dimension 1"), featureChunks.getMessage());

        HostArray z = new HostArray(new double[4 * CoordinateModel.P], new long[] {4, CoordinateModel.P},
                DType.FLOAT64);
        CoordinateModel model = new CoordinateModel(false);
        SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(
                new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null));
        IllegalArgumentException factorChunks = assertThrows(IllegalArgumentException.class,
                () -> calc.influencesFromFactors(ChunkedArray.of(z, new long[] {4}, new long[] {1, 2}),
                        ChunkedData.of(CoordinateModel.indexData(3, 1), 2), InfluenceMode.UP));
        assertTrue(factorChunks.getMessage().startsWith("factors: chunked along dimension 1"),
                factorChunks.getMessage());
        // aligned and unchunked along features: accepted
        assertEquals(2, ChunkedData.of(ChunkedArray.of(x, new long[] {2, 4}, new long[] {2}),
                ChunkedArray.of(y, new long[] {2, 4})).numChunks());
    }

    @Test
    void progressReportsOneTaskWithAStepPerChunk() {
        CoordinateModel model = new CoordinateModel(true);
        InfluenceWorker worker = new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
        RecordingProgress progress = new RecordingProgress();
        ParallelInfluenceCalculator.shared(worker, 2).influences(ChunkedData.of(CoordinateModel.indexData(4, 1), 2),
                ChunkedData.of(CoordinateModel.indexData(9, 1), 3)).compute(progress);
        assertEquals(List.of("started influence blocks 6", "step 1", "step 1", "step 1", "step 1", "step 1", "step 1",
                "finished"), progress.events());
    }

    @Test
    void failingChunkStopsTheRunWithTheBlockNamed() {
        CoordinateModel model = new CoordinateModel(true);
        InfluenceWorker worker = new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
        FailingSink sink = new FailingSink(new InMemorySink(), 3);
        LazyChunkSequence lazy = ParallelInfluenceCalculator.shared(worker, 2).influences(
                ChunkedData.of(CoordinateModel.indexData(6, 1), 1), ChunkedData.of(CoordinateModel.indexData(6, 1), 2));
        ChunkFailedException e = assertThrows(ChunkFailedException.class, () -> lazy.writeTo(sink));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getMessage().contains("disk full") && e.getMessage().contains("rerun"), e.getMessage());
        assertTrue(model.calls.get() < 18, "the run stopped early, computed " + model.calls.get());
    }

    @Test
    void interruptStopsASequentialRunBeforeTheNextChunk() {
        CoordinateModel model = new CoordinateModel(false);
        InfluenceWorker worker = new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
        LazyChunkSequence lazy = new SequentialInfluenceCalculator(worker).influences(
                ChunkedData.of(CoordinateModel.indexData(4, 1), 1), null);
        try {
            RecordingProgress[] progress = new RecordingProgress[1];
            progress[0] = new RecordingProgress(() -> {
                if (progress[0].done() == 2) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThrows(CancellationException.class, () -> lazy.compute(progress[0]));
            assertEquals("finished", progress[0].events().get(progress[0].events().size() - 1),
                    "the task ends also when the run is interrupted");
        } finally {
            Thread.interrupted();
        }
        assertEquals(2, model.calls.get());
    }

    @Test
    void topKKeepsTheLargestAndSmallestPerRowLikeAFullSort() {
        try (InfluenceWorker worker = FACTORY.create()) {
            SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(worker);
            LazyChunkSequence lazy = calc.influences(ChunkedData.of(TEST, 4), ChunkedData.of(TRAIN, 6));
            double[] ref = referenceInfluences();
            TopK top = lazy.writeTo(TopKSink.largest(5)).result();
            TopK bottom = ParallelInfluenceCalculator.perWorker(FACTORY, 2)
                    .influences(ChunkedData.of(TEST, 4), ChunkedData.of(TRAIN, 6)).writeTo(TopKSink.smallest(3)).result();
            int n = TRAIN.size();
            for (int t = 0; t < TEST.size(); t++) {
                Integer[] order = new Integer[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                final int row = t;
                java.util.Arrays.sort(order, (a, b) -> Double.compare(ref[row * n + b], ref[row * n + a]));
                assertEquals(5, top.indices()[t].length);
                for (int r = 0; r < 5; r++) {
                    assertEquals(order[r].longValue(), top.indices()[t][r]);
                    assertEquals(ref[t * n + order[r]], top.scores()[t][r], 1e-10);
                }
                for (int r = 0; r < 3; r++) {
                    assertEquals(order[n - 1 - r].longValue(), bottom.indices()[t][r]);
                }
            }
        }
    }

    @Test
    void badArgumentsNameTheArgument() {
        assertThrows(IllegalArgumentException.class, () -> ChunkedData.of(TEST, 0));
        assertThrows(IllegalArgumentException.class, () -> new SequentialInfluenceCalculator(null));
        assertThrows(IllegalArgumentException.class, () -> ParallelInfluenceCalculator.perWorker(FACTORY, 0));
        assertThrows(IllegalArgumentException.class, () -> TopKSink.largest(0));
        CoordinateModel model = new CoordinateModel(false);
        SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(
                new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> calc.influences(ChunkedData.of(CoordinateModel.indexData(3, 2), 2),
                        ChunkedData.of(CoordinateModel.indexData(3, 3), 2)));
        assertTrue(e.getMessage().startsWith("train:"), e.getMessage());
        IllegalArgumentException topk = assertThrows(IllegalArgumentException.class,
                () -> calc.influences(ChunkedData.of(CoordinateModel.indexData(3, 2), 2), null,
                        InfluenceMode.PERTURBATION).writeTo(TopKSink.largest(2)));
        assertTrue(topk.getMessage().contains("rank-2"), topk.getMessage());
    }
}
