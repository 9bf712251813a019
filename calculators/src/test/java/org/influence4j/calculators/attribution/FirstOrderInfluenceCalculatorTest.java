package org.influence4j.calculators.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;
import org.influence4j.io.ProvenanceFiles;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.junit.jupiter.api.io.TempDir;

/** First-order influence, RelatIF, groups, top-k and caching against plain-Java references (logistic regression). */
class FirstOrderInfluenceCalculatorTest {

    private static final int D = 5;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.03;
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final Batch train = Fixtures.logisticData(60, D, 41);
    private final Batch test = Fixtures.logisticData(4, D, 42);
    private final DataSource trainSource = new InMemoryDataSource(train);
    private final double[] theta = Fixtures.parameters(P, 43);
    private final double[][] h = Fixtures.logisticHessian(train, theta, LAMBDA);
    private final double[][] gTrain = Fixtures.logisticGradients(train, theta);
    private final double[][] gTest = Fixtures.logisticGradients(test, theta);

    private FirstOrderInfluenceCalculator calculator(FirstOrderOptions options) {
        return new FirstOrderInfluenceCalculator(new HostModel(spec, theta), trainSource, new DirectSolver(), options);
    }

    private FirstOrderOptions options(RelatIf normalization) {
        return new FirstOrderOptions(new InfluenceOptions(LAMBDA, 7), normalization, false, VectorCache.NONE, null);
    }

    /** plain-Java reference: influence / c(train_j) for the given normalisation */
    private double[] reference(RelatIf normalization) {
        double[] out = new double[test.size() * train.size()];
        for (int j = 0; j < train.size(); j++) {
            double[] x = Fixtures.gaussSolve(h, gTrain[j]);
            double c = switch (normalization) {
                case NONE -> 1;
                case THETA_RELATIVE -> Math.sqrt(Fixtures.dot(x, x));
                case LOSS_RELATIVE -> Math.sqrt(Fixtures.dot(x, gTrain[j]));
            };
            for (int i = 0; i < test.size(); i++) {
                out[i * train.size() + j] = Fixtures.dot(x, gTest[i]) / c;
            }
        }
        return out;
    }

    @Test
    void influenceValuesMatchReferenceForEveryNormalisation() {
        for (RelatIf normalization : RelatIf.values()) {
            double[] expected = reference(normalization);
            try (FirstOrderInfluenceCalculator c = calculator(options(normalization));
                 HostScope scope = HostBackend.scope()) {
                Fixtures.assertCloseToScale(expected, c.influences(test, train, scope).toDoubleArray(), 1e-10);
                Fixtures.assertCloseToScale(expected, c.influenceValues(test, trainSource), 1e-10);
            }
        }
    }

    @Test
    void relatIfIsInfluenceOverNormsComputedIndependently() {
        double[] plain = reference(RelatIf.NONE);
        try (FirstOrderInfluenceCalculator theta1 = calculator(options(RelatIf.THETA_RELATIVE));
             FirstOrderInfluenceCalculator loss1 = calculator(options(RelatIf.LOSS_RELATIVE));
             HostScope scope = HostBackend.scope()) {
            double[] t = theta1.influences(test, train, scope).toDoubleArray();
            double[] l = loss1.influences(test, train, scope).toDoubleArray();
            for (int j = 0; j < train.size(); j++) {
                // ‖H⁻¹g‖ and g·H⁻¹g from the explicit inverse by Gauss elimination of each unit vector
                double[][] inv = new double[P][];
                for (int a = 0; a < P; a++) {
                    double[] e = new double[P];
                    e[a] = 1;
                    inv[a] = Fixtures.gaussSolve(h, e);
                }
                double[] x = Fixtures.times(inv, gTrain[j]);
                double norm = Math.sqrt(Fixtures.dot(x, x));
                double self = Fixtures.dot(gTrain[j], x);
                for (int i = 0; i < test.size(); i++) {
                    int at = i * train.size() + j;
                    assertEquals(plain[at] / norm, t[at], 1e-10 * Math.abs(plain[at] / norm) + 1e-14);
                    assertEquals(plain[at] / Math.sqrt(self), l[at], 1e-10 * Math.abs(plain[at] / Math.sqrt(self)) + 1e-14);
                }
            }
        }
    }

    @Test
    void selfInfluenceIsGradientTimesInverseHessianTimesGradient() {
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE))) {
            double[] self = c.selfInfluence(trainSource);
            double[] expected = new double[train.size()];
            for (int j = 0; j < expected.length; j++) {
                expected[j] = Fixtures.dot(gTrain[j], Fixtures.gaussSolve(h, gTrain[j]));
                assertTrue(self[j] >= 0);
            }
            Fixtures.assertCloseToScale(expected, self, 1e-10);
            TopK top = c.topKSelfInfluence(trainSource, 5, TopKOrder.PROPONENTS);
            assertEquals(TopK.ofMatrix(expected, 1, expected.length, 5, TopKOrder.PROPONENTS).indices()[0][0],
                    top.indices()[0][0]);
        }
    }

    @Test
    void firstOrderGroupInfluenceIsTheSumOfMemberInfluences() {
        int[] members = {3, 9, 17, 22, 40, 41, 58};
        Batch group = train.select(members);
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE));
             HostScope scope = HostBackend.scope()) {
            double[] values = reference(RelatIf.NONE);
            double expected = 0;
            for (int i = 0; i < test.size(); i++) {
                for (int j : members) {
                    expected += values[i * train.size() + j];
                }
            }
            assertEquals(expected, c.groupInfluenceValue(group, test), 1e-10 * Math.abs(expected));
            double[] vector = c.groupInfluenceVector(group, scope).toDoubleArray();
            double[] sum = new double[P];
            for (int j : members) {
                double[] x = Fixtures.gaussSolve(h, gTrain[j]);
                for (int a = 0; a < P; a++) {
                    sum[a] += x[a];
                }
            }
            Fixtures.assertCloseToScale(sum, vector, 1e-10);
        }
    }

    @Test
    void secondOrderGroupVectorAddsTheGroupHessianTerm() {
        int[] members = {0, 1, 2, 5, 8, 13, 21, 34};
        Batch group = train.select(members);
        double[] gSum = new double[P];
        for (int j : members) {
            for (int a = 0; a < P; a++) {
                gSum[a] += gTrain[j][a];
            }
        }
        double[] v = Fixtures.gaussSolve(h, gSum);
        double[][] hGroup = Fixtures.logisticHessian(group, theta, 0);
        double[] hv = Fixtures.times(hGroup, v);
        double[] corr = Fixtures.gaussSolve(h, hv);
        double[] expected = new double[P];
        for (int a = 0; a < P; a++) {
            expected[a] = v[a] + members.length * corr[a] / train.size();
        }
        FirstOrderOptions o = options(RelatIf.NONE).withSecondOrderGroups(true);
        try (FirstOrderInfluenceCalculator c = calculator(o); HostScope scope = HostBackend.scope()) {
            Fixtures.assertCloseToScale(expected, c.groupInfluenceVector(group, scope).toDoubleArray(), 1e-10);
        }
    }

    @Test
    void streamingTopKEqualsTopKOfTheFullMatrixInBothOrders() {
        double[] full = reference(RelatIf.NONE);
        for (TopKOrder order : TopKOrder.values()) {
            TopK expected = TopK.ofMatrix(full, test.size(), train.size(), 6, order);
            try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE))) {
                TopK actual = c.topK(test, trainSource, 6, order);
                assertArrayEquals(expected.indices(), actual.indices());
                for (int i = 0; i < test.size(); i++) {
                    assertArrayEquals(expected.scores(i), actual.scores(i), 1e-10);
                }
            }
        }
        // independent check of the order contract on one row
        TopK p = TopK.ofMatrix(full, test.size(), train.size(), 3, TopKOrder.PROPONENTS);
        TopK o = TopK.ofMatrix(full, test.size(), train.size(), 3, TopKOrder.OPPONENTS);
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        for (int j = 0; j < train.size(); j++) {
            max = Math.max(max, full[j]);
            min = Math.min(min, full[j]);
        }
        assertEquals(max, p.scores(0)[0]);
        assertEquals(min, o.scores(0)[0]);
    }

    @Test
    void memoryAndDiskCachesGiveTheSameValuesAndRoundTrip(@TempDir Path dir) {
        double[] expected = reference(RelatIf.THETA_RELATIVE);
        Path file = dir.resolve("vectors.npy");
        FirstOrderOptions disk = options(RelatIf.THETA_RELATIVE).withDiskCache(file);
        try (FirstOrderInfluenceCalculator c = calculator(disk)) {
            Fixtures.assertCloseToScale(expected, c.influenceValues(test, trainSource), 1e-10);
            assertTrue(Files.exists(file));
        }
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.THETA_RELATIVE).withMemoryCache())) {
            c.loadInfluenceVectors(trainSource, file);
            Fixtures.assertCloseToScale(expected, c.influenceValues(test, trainSource), 1e-10);
            TopK top = c.topK(test, trainSource, 4, TopKOrder.OPPONENTS);
            assertArrayEquals(TopK.ofMatrix(expected, test.size(), train.size(), 4, TopKOrder.OPPONENTS).indices(),
                    top.indices());
            Batch other = Fixtures.logisticData(10, D, 5);
            ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class,
                    () -> c.loadInfluenceVectors(new InMemoryDataSource(other), file));
            assertTrue(e.getMessage().contains("train.sha256 is "), e.getMessage());
        }
    }

    /** A disk cache computed for another λ, normalisation or without a record is refused, not reused. */
    @Test
    void aDiskCacheOfAnotherComputationIsRefusedNamingTheDifferingFields(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("vectors.npy");
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE).withDiskCache(file))) {
            c.influenceValues(test, trainSource);
        }
        FirstOrderOptions otherLambda = new FirstOrderOptions(new InfluenceOptions(LAMBDA * 10, 7), RelatIf.NONE,
                false, VectorCache.DISK, file);
        try (FirstOrderInfluenceCalculator c = calculator(otherLambda)) {
            ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class,
                    () -> c.influenceValues(test, trainSource));
            assertTrue(e.getMessage().contains("influence.lambda is " + LAMBDA + " there but " + LAMBDA * 10 + " now"),
                    e.getMessage());
        }
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.THETA_RELATIVE).withDiskCache(file))) {
            ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class,
                    () -> c.influenceValues(test, trainSource));
            assertTrue(e.differences().toString().contains("normalization is NONE there but THETA_RELATIVE now"),
                    e.getMessage());
        }
        Files.delete(ProvenanceFiles.sidecar(file));
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE).withDiskCache(file))) {
            ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class,
                    () -> c.influenceValues(test, trainSource));
            assertTrue(e.getMessage().contains("has no provenance record"), e.getMessage());
        }
    }

    @Test
    void badInputIsRejectedWithTheArgumentName() {
        try (FirstOrderInfluenceCalculator c = calculator(options(RelatIf.NONE))) {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> c.topK(test, trainSource, 0, TopKOrder.PROPONENTS)).getMessage().startsWith("k:"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> c.topK(test, trainSource, 61, TopKOrder.PROPONENTS)).getMessage().startsWith("k:"));
            Batch empty = new Batch(new double[0], D, new double[0], 1);
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> c.topK(empty, trainSource, 3, TopKOrder.PROPONENTS)).getMessage().startsWith("test:"));
        }
        assertThrows(IllegalArgumentException.class, () -> FirstOrderOptions.of(0.1).withDiskCache(null));
    }

    @Test
    void cgSolverGivesTheSameValues() {
        FirstOrderOptions o = options(RelatIf.LOSS_RELATIVE);
        try (FirstOrderInfluenceCalculator c = new FirstOrderInfluenceCalculator(new HostModel(spec, theta), trainSource,
                new ConjugateGradientSolver(new CgOptions(1e-12, 0, 0)), o)) {
            Fixtures.assertCloseToScale(reference(RelatIf.LOSS_RELATIVE), c.influenceValues(test, trainSource), 1e-8);
        }
    }
}
