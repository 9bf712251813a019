package org.influence4j.calculators.influence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ArnoldiOptions;
import org.influence4j.calculators.inversion.ArnoldiSolver;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.inversion.NystroemOptions;
import org.influence4j.calculators.inversion.NystroemSolver;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class InverseHessianInfluenceTest {

    private static final int D = 5;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.02;
    private static final CgOptions TIGHT = new CgOptions(1e-12, 0, 0);
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final Batch train = Fixtures.logisticData(90, D, 31);
    private final Batch test = Fixtures.logisticData(7, D, 32);
    private final double[] theta = Fixtures.parameters(P, 33);

    static Stream<Arguments> models() {
        return Stream.of(Arguments.of("direct"), Arguments.of("cg"), Arguments.of("DirectInfluence"),
                Arguments.of("CgInfluence"), Arguments.of("arnoldi"), Arguments.of("nystroem"));
    }

    private InfluenceFunctionModel model(String kind) {
        HostModel m = new HostModel(spec, theta);
        InfluenceOptions options = new InfluenceOptions(LAMBDA, 16);
        return switch (kind) {
            case "direct" -> new InverseHessianInfluence(m, new DirectSolver(), options);
            case "cg" -> new InverseHessianInfluence(m, new ConjugateGradientSolver(TIGHT), options);
            case "DirectInfluence" -> new DirectInfluence(m, options);
            case "CgInfluence" -> new CgInfluence(m, options, TIGHT);
            // full rank (r = p): the low-rank inverses are exact, through their projected products
            // (LowRankInverse#leftFactors): Arnoldi's with the training side joined over chunks
            // (the basis times the training gradients), Nyström's chunk by chunk with the complement term (#scores)
            case "arnoldi" -> new InverseHessianInfluence(m, new ArnoldiSolver(ArnoldiOptions.ofRank(P)), options);
            case "nystroem" -> new InverseHessianInfluence(m, new NystroemSolver(new NystroemOptions(P, 5)), options);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** {@code ⟨H⁻¹ g_test_i, g_train_j⟩} in plain Java. */
    private double[] reference(Batch testBatch, Batch trainBatch) {
        double[][] h = Fixtures.logisticHessian(train, theta, LAMBDA);
        double[][] gt = Fixtures.logisticGradients(testBatch, theta);
        double[][] gr = Fixtures.logisticGradients(trainBatch, theta);
        double[] out = new double[gt.length * gr.length];
        for (int i = 0; i < gt.length; i++) {
            double[] z = Fixtures.gaussSolve(h, gt[i]);
            for (int j = 0; j < gr.length; j++) {
                out[i * gr.length + j] = Fixtures.dot(z, gr[j]);
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("models")
    void influencesEqualPlainJavaReference(String kind) {
        try (InfluenceFunctionModel m = model(kind).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            assertTrue(m.isFitted());
            Batch trainPart = train.slice(0, 20);
            Tensor inf = m.influences(test, trainPart, InfluenceMode.UP, scope);
            assertArrayEquals(new long[] {7, 20}, inf.shape());
            Fixtures.assertCloseToScale(reference(test, trainPart), inf.toDoubleArray(), 1e-9);

            Tensor factors = m.influenceFactors(test, scope);
            assertArrayEquals(new long[] {7, P}, factors.shape());
            Fixtures.assertCloseToScale(inf.toDoubleArray(),
                    m.influencesFromFactors(factors, trainPart, InfluenceMode.UP, scope).toDoubleArray(), 1e-12);
            assertEquals(3, scope.liveTensors(), "only the returned tensors live in the caller's scope");
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void nullTrainMeansTestItself(String kind) {
        try (InfluenceFunctionModel m = model(kind).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            double[] self = m.influences(test, null, InfluenceMode.UP, scope).toDoubleArray();
            double[] explicit = m.influences(test, test, InfluenceMode.UP, scope).toDoubleArray();
            assertArrayEquals(explicit, self, 0.0);
            Fixtures.assertCloseToScale(reference(test, test), self, 1e-9);
            for (int i = 0; i < 7; i++) {
                assertTrue(self[i * 7 + i] > 0, "self-influence is positive for a positive definite H");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void smallerTrainSideGivesTheSameNumbers(String kind) {
        Batch big = train.slice(0, 30);
        Batch small = train.slice(40, 43);
        try (InfluenceFunctionModel m = model(kind).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            double[] nLessThanM = m.influences(big, small, InfluenceMode.UP, scope).toDoubleArray();
            double[] mLessThanN = m.influences(small, big, InfluenceMode.UP, scope).toDoubleArray();
            Fixtures.assertCloseToScale(reference(big, small), nLessThanM, 1e-9);
            Fixtures.assertCloseToScale(reference(small, big), mLessThanN, 1e-9);
            for (int i = 0; i < 30; i++) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(nLessThanM[i * 3 + j], mLessThanN[j * 30 + i],
                            1e-9 * (1 + Math.abs(nLessThanM[i * 3 + j])));
                }
            }
        }
    }

    @Test
    void solverDiagnosticsAreExposed() {
        InverseHessianInfluence m = new InverseHessianInfluence(new HostModel(spec, theta),
                new ConjugateGradientSolver(TIGHT), new InfluenceOptions(LAMBDA, 32));
        assertTrue(m.lastSolverInfo().isEmpty());
        m.fit(new InMemoryDataSource(train));
        assertEquals(LAMBDA, m.operator().orElseThrow().regularization());
        try (HostScope scope = HostBackend.scope()) {
            m.influenceFactors(test, scope);
        }
        assertEquals(InversionMethod.CG, m.lastSolverInfo().orElseThrow().method());
        assertTrue(m.lastSolverInfo().orElseThrow().converged());
        m.close();
        assertFalse(m.isFitted());
    }

    @Test
    void badInputGivesClearExceptions() {
        InverseHessianInfluence m = new InverseHessianInfluence(new HostModel(spec, theta), new DirectSolver(),
                InfluenceOptions.defaults());
        try (HostScope scope = HostBackend.scope()) {
            IllegalStateException unfitted = assertThrows(IllegalStateException.class,
                    () -> m.influences(test, train, InfluenceMode.UP, scope));
            assertTrue(unfitted.getMessage().contains("call fit(trainingData) first"), unfitted.getMessage());
            assertThrows(IllegalStateException.class, () -> m.influenceFactors(test, scope));

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new InfluenceOptions(-1, 16));
            assertTrue(e.getMessage().startsWith("hessianRegularization: must be >= 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new InfluenceOptions(0, 0));
            assertTrue(e.getMessage().startsWith("batchSize"), e.getMessage());

            Batch wideTrain = Fixtures.logisticData(20, D + 2, 1);
            e = assertThrows(IllegalArgumentException.class, () -> m.fit(new InMemoryDataSource(wideTrain)));
            assertTrue(e.getMessage().contains("trainingData") && e.getMessage().contains("inputDim=5"),
                    e.getMessage());
            assertFalse(m.isFitted());

            m.fit(new InMemoryDataSource(train));
            Batch wideTest = Fixtures.logisticData(3, D + 1, 2);
            e = assertThrows(IllegalArgumentException.class, () -> m.influences(wideTest, train, InfluenceMode.UP,
                    scope));
            assertTrue(e.getMessage().startsWith("test: x has 6 features"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.influences(test, wideTest, InfluenceMode.UP,
                    scope));
            assertTrue(e.getMessage().startsWith("train: x has 6 features"), e.getMessage());
            double[] y = train.y().clone();
            y[4] = 3;
            Batch badLabels = new Batch(train.x(), D, y, 1);
            e = assertThrows(IllegalArgumentException.class, () -> m.influences(test, badLabels, InfluenceMode.UP,
                    scope));
            assertTrue(e.getMessage().startsWith("train: y[4]=3.0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Batch.of(new double[][] {{1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}}, new double[] {1}));
            assertTrue(e.getMessage().contains("x and y must have the same number of rows"), e.getMessage());
            Tensor badFactors = scope.zeros(org.influence4j.api.DType.FLOAT64, 2, P + 1);
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.influencesFromFactors(badFactors, train, InfluenceMode.UP, scope));
            assertTrue(e.getMessage().startsWith("factors: shape [2, 7]"), e.getMessage());

            e = assertThrows(IllegalArgumentException.class, () -> m.influences(test, train, null, scope));
            assertTrue(e.getMessage().startsWith("mode: must not be null"), e.getMessage());
            assertEquals(1, scope.liveTensors(), "failed calls leave nothing behind");
        }
        assertThrows(IllegalArgumentException.class, () -> new InverseHessianInfluence(null, new DirectSolver(),
                InfluenceOptions.defaults()));
        assertThrows(IllegalArgumentException.class, () -> new DirectInfluence(new HostModel(spec, theta), -0.5));
    }

    /**
     * Perturbation influences are the x-derivatives of the UP influences with H (and so the test
     * factors) held fixed: central differences of UP influences in each training feature.
     */
    @ParameterizedTest
    @MethodSource("models")
    void perturbationInfluencesAreFiniteDifferencesOfUpInfluences(String kind) {
        Batch trainPart = train.slice(0, 9);
        double h = 1e-5;
        try (InfluenceFunctionModel m = model(kind).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            Tensor pert = m.influences(test, trainPart, InfluenceMode.PERTURBATION, scope);
            assertArrayEquals(new long[] {7, 9, D}, pert.shape());
            double[] got = pert.toDoubleArray();
            Tensor factors = m.influenceFactors(test, scope);
            assertArrayEquals(got, m.influencesFromFactors(factors, trainPart, InfluenceMode.PERTURBATION, scope)
                    .toDoubleArray(), 1e-12);
            double scale = 0;
            double worst = 0;
            for (int i = 0; i < 9; i++) {
                for (int f = 0; f < D; f++) {
                    double[] xp = trainPart.x().clone();
                    double[] xm = trainPart.x().clone();
                    xp[i * D + f] += h;
                    xm[i * D + f] -= h;
                    double[] up = m.influencesFromFactors(factors, new Batch(xp, D, trainPart.y(), 1),
                            InfluenceMode.UP, scope).toDoubleArray();
                    double[] um = m.influencesFromFactors(factors, new Batch(xm, D, trainPart.y(), 1),
                            InfluenceMode.UP, scope).toDoubleArray();
                    for (int t = 0; t < 7; t++) {
                        double fd = (up[t * 9 + i] - um[t * 9 + i]) / (2 * h);
                        double v = got[(t * 9 + i) * D + f];
                        scale = Math.max(scale, Math.abs(fd));
                        worst = Math.max(worst, Math.abs(fd - v));
                    }
                }
            }
            assertTrue(worst <= 1e-7 * scale, "worst " + worst + " at scale " + scale);
        }
    }

    /** Chunking the training side (chunks of 4 of 11 samples) changes nothing. */
    @Test
    void perturbationChunksOverTrainingSamples() {
        Batch trainPart = train.slice(0, 11);
        HostModel hm = new HostModel(spec, theta);
        try (InverseHessianInfluence chunked = new InverseHessianInfluence(hm, new DirectSolver(),
                     new InfluenceOptions(LAMBDA, 4)).fit(new InMemoryDataSource(train));
             InverseHessianInfluence whole = new InverseHessianInfluence(hm, new DirectSolver(),
                     new InfluenceOptions(LAMBDA, 64)).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            Tensor a = chunked.influences(test, trainPart, InfluenceMode.PERTURBATION, scope);
            Tensor b = whole.influences(test, trainPart, InfluenceMode.PERTURBATION, scope);
            assertArrayEquals(new long[] {7, 11, D}, a.shape());
            assertArrayEquals(b.toDoubleArray(), a.toDoubleArray(), 1e-12);
            assertEquals(2, scope.liveTensors(), "only the returned tensors live in the caller's scope");
            double[] self = chunked.influences(test, null, InfluenceMode.PERTURBATION, scope).toDoubleArray();
            assertArrayEquals(whole.influences(test, test, InfluenceMode.PERTURBATION, scope).toDoubleArray(), self,
                    1e-12);
        }
    }

    @Test
    void perturbationNeedsMixedDerivatives() {
        org.influence4j.api.Backend backend = org.mockito.Mockito.mock(org.influence4j.api.Backend.class);
        org.mockito.Mockito.when(backend.name()).thenReturn("plain");
        org.mockito.Mockito.when(backend.capabilities())
                .thenReturn(java.util.EnumSet.of(org.influence4j.api.BackendCapability.FLOAT64));
        org.influence4j.api.TwiceDifferentiable tm = org.mockito.Mockito.mock(
                org.influence4j.api.TwiceDifferentiable.class);
        org.mockito.Mockito.when(tm.backend()).thenReturn(backend);
        org.mockito.Mockito.when(tm.spec()).thenReturn(spec);
        org.mockito.Mockito.when(tm.numParameters()).thenReturn(P);
        try (InverseHessianInfluence m = new InverseHessianInfluence(tm, new DirectSolver(),
                InfluenceOptions.of(LAMBDA)); HostScope scope = HostBackend.scope()) {
            Tensor factors = scope.zeros(org.influence4j.api.DType.FLOAT64, 2, P);
            UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                    () -> m.influencesFromFactors(factors, train, InfluenceMode.PERTURBATION, scope));
            assertTrue(u.getMessage().contains("MIXED_DERIVATIVES") && u.getMessage().contains("plain"),
                    u.getMessage());
        }
    }
}
