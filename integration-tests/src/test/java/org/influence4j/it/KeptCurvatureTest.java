package org.influence4j.it;

import static org.influence4j.backend.testkit.TestSupport.assertCloseToScale;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.inversion.ArnoldiOptions;
import org.influence4j.calculators.inversion.ArnoldiSolver;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.inversion.LowRankInverse;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kept passes ({@link TwiceDifferentiable#keepCurvature}, used by {@link DataHessianOperator} within
 * its memory bound) give the same Hessian and Gauss-Newton products as the passes that recompute
 * them: bit for bit, since the operations are the same, on the LeNet-style fixture on every backend
 * (nd4j keeps nothing, the DJL engines keep the recorded passes); the kept state belongs to the
 * parameters it was made at, and the operator makes it again when they change.
 */
class KeptCurvatureTest {

    static Stream<Arguments> backendsAndCurvatures() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            for (Curvature curvature : Curvature.values()) {
                out.add(Arguments.of(backend, curvature));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndCurvatures")
    void keptProductsEqualTheRecomputedOnesAndKeepTheirParameters(String backendName, Curvature curvature) {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(backendName);
        int p = f.parameters().length;
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            // one direction sweeps the kept record; a block this batch's size allows is batched (not kept)
            Tensor vs = scope.fromArray(TestSupport.gaussians(p, 2), DType.FLOAT64, 1, p);
            Tensor many = scope.fromArray(TestSupport.gaussians(3 * p, 4), DType.FLOAT64, 3, p);
            double[] expected = model.curvatureBlock(f.batch(), curvature, vs, scope).toDoubleArray();
            double[] expectedMany = model.curvatureBlock(f.batch(), curvature, many, scope).toDoubleArray();
            KeptCurvature kept = model.keepCurvature(f.batch(), curvature);
            assertEquals(curvature, kept.curvature());
            boolean gradients = curvature == Curvature.EMPIRICAL_FISHER; // kept on every backend, reassociated
            assertEquals(backendName.equals("nd4j") && !gradients, kept.keptBytes() == 0, "bytes " + kept.keptBytes());
            for (int round = 0; round < 2; round++) {
                assertCloseToScale(expected, kept.times(vs, scope).toDoubleArray(), gradients ? 1e-13 : 0,
                        "round " + round);
                assertCloseToScale(expectedMany, kept.times(many, scope).toDoubleArray(), gradients ? 1e-13 : 0,
                        "block");
            }
            assertArrayEquals(new long[] {0, p},
                    kept.times(scope.fromArray(new double[0], DType.FLOAT64, 0, p), scope).shape());
            Tensor wrong = scope.fromArray(new double[p + 1], DType.FLOAT64, 1, p + 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kept.times(wrong, scope));
            assertTrue(e.getMessage().startsWith("vs: "), e.getMessage());
            for (IllegalArgumentException noCurvature : List.of(
                    assertThrows(IllegalArgumentException.class, () -> model.keepCurvature(f.batch(), null)),
                    assertThrows(IllegalArgumentException.class, () -> model.curvatureBlock(f.batch(), null, vs,
                            scope)))) {
                assertTrue(noCurvature.getMessage().startsWith("curvature: "), noCurvature.getMessage());
            }

            double[] moved = f.parameters().clone();
            for (int i = 0; i < p; i++) {
                moved[i] *= 1.5;
            }
            model.setParameters(moved);
            if (kept.keptBytes() > 0) {
                assertCloseToScale(expected, kept.times(vs, scope).toDoubleArray(), gradients ? 1e-13 : 0,
                        "kept at the parameters it was made with");
                kept.close();
                assertEquals(0, kept.keptBytes());
                IllegalStateException closed = assertThrows(IllegalStateException.class, () -> kept.times(vs, scope));
                assertTrue(closed.getMessage().contains("keepCurvature"), closed.getMessage());
            }
            KeptCurvature again = model.keepCurvature(f.batch(), curvature);
            double[] movedProduct = model.curvatureBlock(f.batch(), curvature, vs, scope).toDoubleArray();
            assertCloseToScale(movedProduct, again.times(vs, scope).toDoubleArray(), gradients ? 1e-13 : 0, "again");
            model.close();
            if (gradients) { // a copy of the gradients: usable until closed
                assertCloseToScale(movedProduct, again.times(vs, scope).toDoubleArray(), 1e-13, "model closed");
            } else {
                assertThrows(IllegalStateException.class, () -> again.times(vs, scope));
            }
            again.close();
            assertThrows(IllegalStateException.class, () -> again.times(vs, scope));
        }
    }

    /**
     * The operator keeps the first batches that fit its bound: none, some or all, the same numbers
     * each pass; it releases them on request and makes them again after the parameters change.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndCurvatures")
    void theOperatorKeepsWhatFitsAndAppliesTheSameMatrix(String backendName, Curvature curvature) {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(backendName);
        int p = f.parameters().length;
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            InMemoryDataSource data = new InMemoryDataSource(f.batch());
            int batches = (f.batch().size() + 2) / 3;
            long perBatch;
            try (KeptCurvature one = model.keepCurvature(f.batch().slice(0, 3), curvature)) {
                perBatch = one.keptBytes();
            }
            Tensor v = scope.fromArray(TestSupport.gaussians(p, 1), DType.FLOAT64, p);
            Tensor vs = scope.fromArray(TestSupport.gaussians(2 * p, 3), DType.FLOAT64, 2, p);
            DataHessianOperator recomputed = new DataHessianOperator(model, data, 0.25, 3, curvature, 0);
            double[] vector = recomputed.apply(v, scope).toDoubleArray();
            double[] twoRows = recomputed.apply(vs, scope).toDoubleArray();
            assertEquals(0, recomputed.keptBatches());
            for (long bound : new long[] {perBatch + perBatch / 2, DataHessianOperator.DEFAULT_KEPT_STATE_BYTES}) {
                try (DataHessianOperator kept = new DataHessianOperator(model, data, 0.25, 3, curvature, bound)) {
                    for (int pass = 0; pass < 2; pass++) {
                        assertArrayEquals(vector, kept.apply(v, scope).toDoubleArray(), "pass " + pass);
                        assertArrayEquals(twoRows, kept.apply(vs, scope).toDoubleArray(), "pass " + pass);
                    }
                    int expectedBatches = perBatch == 0 ? 0 : bound < 2 * perBatch ? 1 : batches;
                    assertEquals(expectedBatches, kept.keptBatches(), "bound " + bound);
                    assertTrue(kept.keptBytes() <= bound);
                    assertEquals(4, kept.passes());
                    kept.releaseKeptState();
                    assertEquals(0, kept.keptBatches());
                    assertEquals(0, kept.keptBytes());
                    assertArrayEquals(vector, kept.apply(v, scope).toDoubleArray(), "kept again");
                    assertEquals(expectedBatches, kept.keptBatches());

                    double[] moved = f.parameters().clone();
                    moved[0] += 0.5;
                    model.setParameters(moved);
                    double[] movedExpected = recomputed.apply(v, scope).toDoubleArray();
                    assertArrayEquals(movedExpected, kept.apply(v, scope).toDoubleArray(), "after a parameter change");
                    model.setParameters(f.parameters());
                }
            }
        }
    }

    /**
     * With two intra-op threads on the calling thread, djl-pytorch's kept batches run in waves on two
     * threads (the model and a replica, one intra-op thread each) and give the products of one thread
     * (the caller's intra-op threads set to 1), summed in the same batch order; the caller's intra-op
     * threads are restored after each pass. Batches of three, three and two samples: a full wave, then
     * the last batch alone.
     */
    @ParameterizedTest
    @EnumSource(Curvature.class)
    void keptBatchesRunOnAsManyThreadsAsTheCallerHasIntraOpThreads(Curvature curvature) {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        int p = f.parameters().length;
        int before = backend.callingThreadOpThreads();
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            InMemoryDataSource data = new InMemoryDataSource(f.batch());
            Tensor v = scope.fromArray(TestSupport.gaussians(p, 1), DType.FLOAT64, p);
            Tensor vs = scope.fromArray(TestSupport.gaussians(2 * p, 3), DType.FLOAT64, 2, p);
            backend.setCallingThreadOpThreads(1);
            double[] vector;
            double[] twoRows;
            try (DataHessianOperator one = new DataHessianOperator(model, data, 0.25, 3, curvature)) {
                vector = one.apply(v, scope).toDoubleArray();
                twoRows = one.apply(vs, scope).toDoubleArray();
                assertEquals(1, one.keptThreads());
                assertEquals(3, one.keptBatches());
            }
            backend.setCallingThreadOpThreads(2);
            try (DataHessianOperator two = new DataHessianOperator(model, data, 0.25, 3, curvature)) {
                for (int pass = 0; pass < 2; pass++) {
                    assertCloseToScale(vector, two.apply(v, scope).toDoubleArray(), 1e-12, "vector, pass " + pass);
                    assertCloseToScale(twoRows, two.apply(vs, scope).toDoubleArray(), 1e-12, "two rows, pass " + pass);
                    assertEquals(2, two.keptThreads());
                    assertEquals(3, two.keptBatches());
                    assertEquals(2, backend.callingThreadOpThreads(), "the caller's intra-op threads");
                }
                two.releaseKeptState();
                assertEquals(1, two.keptThreads());
                assertCloseToScale(vector, two.apply(v, scope).toDoubleArray(), 1e-12, "kept again");
                assertEquals(2, two.keptThreads());
            }
        } finally {
            backend.setCallingThreadOpThreads(Math.max(1, before));
        }
    }

    /**
     * The waves leave no native memory behind: the operator's Gauss-Newton products over the LeNet
     * fixture repeated to 192 samples (three kept batches of 64, two kept threads), its kept state
     * released every 10 products, so that the replicas, their scopes, the kept records (150 per round)
     * and each pass's copies of the direction are made and freed throughout (the bar of
     * {@link AbstractModelNativeMemoryTest}). Kept records left open grow RSS by about 170 MB per
     * round; a replica of this small model (545 parameters) is below what RSS can show.
     */
    @Test
    void keptWavesKeepNativeMemoryFlat() throws IOException {
        GraphFixture f = GraphFixture.load("lenet");
        Batch samples = f.batch();
        while (samples.size() < 192) {
            samples = samples.concat(f.batch());
        }
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        int before = backend.callingThreadOpThreads();
        backend.setCallingThreadOpThreads(2);
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             DataHessianOperator op = new DataHessianOperator(model, new InMemoryDataSource(samples.slice(0, 192)),
                     0.25, 64, Curvature.GAUSS_NEWTON)) {
            int[] uses = {0};
            AbstractModelNativeMemoryTest.measure(backend, "Gauss-Newton products of DataHessianOperator's kept"
                    + " waves over the lenet CNN, 3 batches of 64, released every 10", f.parameters().length, 500,
                    (v, s) -> {
                        if (++uses[0] % 10 == 0) {
                            op.releaseKeptState();
                        }
                        Tensor product = op.apply(v, s);
                        assertEquals(2, op.keptThreads());
                        return product;
                    });
        } finally {
            backend.setCallingThreadOpThreads(Math.max(1, before));
        }
    }

    /** A data source whose passes chunk differently breaks the kept batches' order: one line naming it. */
    @Test
    void aSourceThatChangesBetweenPassesIsRefused() {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        int p = f.parameters().length;
        Batch all = f.batch();
        DataSource shifting = new DataSource() {
            private int pass;

            @Override
            public long size() {
                return all.size();
            }

            @Override
            public int numFeatures() {
                return all.numFeatures();
            }

            @Override
            public int labelWidth() {
                return all.labelWidth();
            }

            @Override
            public Iterator<Batch> batches(int batchSize) {
                // the first pass as asked; later passes start with one sample
                int first = pass++ == 0 ? batchSize : 1;
                return List.of(all.slice(0, first), all.slice(first, all.size())).iterator();
            }
        };
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope();
             DataHessianOperator op = new DataHessianOperator(model, shifting, 0.25, 3, Curvature.GAUSS_NEWTON)) {
            Tensor v = scope.fromArray(TestSupport.gaussians(p, 1), DType.FLOAT64, p);
            op.apply(v, scope);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> op.apply(v, scope));
            assertTrue(e.getMessage().startsWith("trainingData: batch 0 holds 1 samples but held 3"), e.getMessage());
        }
    }

    /** Arnoldi finds the same eigenvalues with and without kept passes. */
    @ParameterizedTest
    @EnumSource(Curvature.class)
    void arnoldiFindsTheSameEigenvaluesWithKeptPasses(Curvature curvature) {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        double lambda = curvature == Curvature.HESSIAN ? 10.0 : 0.01; // H + λI positive definite
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters())) {
            InMemoryDataSource data = new InMemoryDataSource(f.batch());
            ArnoldiOptions options = new ArnoldiOptions(5, 0, 1e-10, 0, 7, false);
            try (DataHessianOperator recomputed = new DataHessianOperator(model, data, lambda, 4, curvature, 0);
                 DataHessianOperator kept = new DataHessianOperator(model, data, lambda, 4, curvature);
                 LowRankInverse a = new ArnoldiSolver(options).prepare(recomputed);
                 LowRankInverse b = new ArnoldiSolver(options).prepare(kept)) {
                assertTrue(kept.keptBatches() > 0);
                assertArrayEquals(a.eigenvalues(), b.eigenvalues());
            }
        }
    }
}
