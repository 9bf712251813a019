package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.influence4j.calculators.testing.HostBackend;
import org.junit.jupiter.api.Test;

/**
 * The empirical Fisher {@code F = (1/n) Σ_i g_i g_iᵀ} (pyDVL's "Gauss-Newton") as an operator, kept
 * and precomputed, and solved by CG, block CG and Direct, against its closed form from the per-sample
 * logistic gradients and Gaussian elimination, in float64.
 */
class EmpiricalFisherTest {

    private static final int D = 30;
    private static final int P = D + 1;
    private static final int N = 24;
    private static final double LAMBDA = 0.01;

    private final Batch data = Fixtures.logisticData(N, D, 61);
    private final double[] theta = Fixtures.parameters(P, 62);
    private final double[][] gradients = Fixtures.logisticGradients(data, theta);
    private final double[][] fisher = closedForm();

    /** {@code (1/n) Σ g_i g_iᵀ + λI}. */
    private double[][] closedForm() {
        double[][] f = new double[P][P];
        for (double[] g : gradients) {
            for (int a = 0; a < P; a++) {
                for (int b = 0; b < P; b++) {
                    f[a][b] += g[a] * g[b] / N;
                }
            }
        }
        for (int a = 0; a < P; a++) {
            f[a][a] += LAMBDA;
        }
        return f;
    }

    /** Batches of 7: 7, 7, 7 and 3 samples, so that the batch weights n_b / n differ. */
    private DataHessianOperator operator(long keptBytes) {
        return new DataHessianOperator(new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC), theta),
                new InMemoryDataSource(data), LAMBDA, 7, Curvature.EMPIRICAL_FISHER, keptBytes);
    }

    private double[][] directions(int k, long seed) {
        double[][] v = new double[k][];
        for (int i = 0; i < k; i++) {
            v[i] = Fixtures.parameters(P, seed + i);
        }
        return v;
    }

    @Test
    void productsAndMatrixAreTheMeanOuterProductOfThePerSampleGradients() {
        double[][] v = directions(3, 70);
        try (HostScope scope = HostBackend.scope()) {
            Tensor vs = scope.fromArray(Fixtures.flatten(v), DType.FLOAT64, 3, P);
            for (long kept : List.of(0L, DataHessianOperator.DEFAULT_KEPT_STATE_BYTES)) {
                try (DataHessianOperator op = operator(kept)) {
                    for (int pass = 0; pass < 2; pass++) { // the second pass reads the kept gradients
                        double[] got = op.apply(vs, scope).toDoubleArray();
                        for (int i = 0; i < 3; i++) {
                            Fixtures.assertCloseToScale(Fixtures.times(fisher, v[i]),
                                    Arrays.copyOfRange(got, i * P, (i + 1) * P), 1e-13);
                        }
                    }
                    assertEquals(kept == 0 ? 0 : 4, op.keptBatches(), "kept batches, budget " + kept);
                    assertEquals(kept == 0 ? 0 : (long) N * P * 8, op.keptBytes(), "the kept per-sample gradients");
                    Fixtures.assertCloseToScale(Fixtures.flatten(fisher), op.toMatrix(scope).toDoubleArray(), 1e-13);
                }
            }
            // a budget below one batch's gradients keeps none (and forms none to find out)
            try (DataHessianOperator op = operator((long) 7 * P * 8 - 1)) {
                op.apply(vs, scope).close();
                assertEquals(0, op.keptBatches());
            }
        }
    }

    @Test
    void precomputedFactorsAreThePerSampleGradients() {
        double[][] v = directions(2, 80);
        try (HostScope scope = HostBackend.scope(); DataHessianOperator op = operator(0);
             FactoredGaussNewtonOperator factored = new FactoredGaussNewtonOperator(op)) {
            assertEquals("empirical-fisher-factors", factored.form());
            Tensor vs = scope.fromArray(Fixtures.flatten(v), DType.FLOAT64, 2, P);
            double[] got = factored.apply(vs, scope).toDoubleArray();
            for (int i = 0; i < 2; i++) {
                Fixtures.assertCloseToScale(Fixtures.times(fisher, v[i]), Arrays.copyOfRange(got, i * P, (i + 1) * P),
                        1e-13);
            }
            Fixtures.assertCloseToScale(Fixtures.flatten(fisher), factored.toMatrix(scope).toDoubleArray(), 1e-13);
        }
    }

    @Test
    void directAndConjugateGradientsSolveIt() {
        double[][] b = directions(4, 90);
        try (HostScope scope = HostBackend.scope()) {
            Tensor rhs = scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 4, P);
            for (var solver : List.of(new DirectSolver(), new ConjugateGradientSolver(new CgOptions(1e-11, 0, 300)),
                    new ConjugateGradientSolver(new CgOptions(1e-11, 0, 0).withBlock(true)),
                    new ConjugateGradientSolver(new CgOptions(1e-11, 0, 300).withPrecompute(true)))) {
                try (DataHessianOperator op = operator(DataHessianOperator.DEFAULT_KEPT_STATE_BYTES)) {
                    double[] x = solver.prepare(op).solve(rhs, scope).x().toDoubleArray();
                    for (int i = 0; i < 4; i++) {
                        Fixtures.assertCloseToScale(Fixtures.gaussSolve(fisher, b[i]),
                                Arrays.copyOfRange(x, i * P, (i + 1) * P), 1e-8);
                    }
                }
            }
        }
    }

    /**
     * Direct inverts the empirical Fisher of fewer samples than parameters through the samples'
     * gradients (Woodbury, no p x p matrix), and of more samples through the dense matrix; both equal
     * Gaussian elimination, with residuals at rounding level.
     */
    @Test
    void directInvertsFewSamplesThroughTheirGradients() {
        double[][] b = directions(3, 110);
        Batch many = Fixtures.logisticData(2 * P, D, 63);
        double[][] g = Fixtures.logisticGradients(many, theta);
        double[][] manyFisher = new double[P][P];
        for (double[] gi : g) {
            for (int a = 0; a < P; a++) {
                for (int c = 0; c < P; c++) {
                    manyFisher[a][c] += gi[a] * gi[c] / g.length;
                }
            }
        }
        for (int a = 0; a < P; a++) {
            manyFisher[a][a] += LAMBDA;
        }
        try (HostScope scope = HostBackend.scope()) {
            Tensor rhs = scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 3, P);
            for (boolean few : new boolean[] {true, false}) {
                DataHessianOperator op = few ? operator(0) : new DataHessianOperator(
                        new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC), theta), new InMemoryDataSource(many),
                        LAMBDA, 7, Curvature.EMPIRICAL_FISHER);
                try (var inverse = new DirectSolver().prepare(op)) {
                    InverseHvpResult r = inverse.solve(rhs, scope);
                    assertEquals(few ? "woodbury" : "cholesky", r.info().details().get("factorization"));
                    double[] x = r.x().toDoubleArray();
                    for (int i = 0; i < 3; i++) {
                        Fixtures.assertCloseToScale(Fixtures.gaussSolve(few ? fisher : manyFisher, b[i]),
                                Arrays.copyOfRange(x, i * P, (i + 1) * P), 1e-9);
                        assertTrue(r.info().residuals()[i] < 1e-12, "residual " + r.info().residuals()[i]);
                    }
                }
            }
        }
    }

    /** With λ = 0 the empirical Fisher of fewer samples than parameters is singular: refused before any pass. */
    @Test
    void directRefusesTheSingularFisherOfFewSamplesWithoutRegularization() {
        DataHessianOperator op = new DataHessianOperator(new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC),
                theta), new InMemoryDataSource(data), 0, 7, Curvature.EMPIRICAL_FISHER);
        InversionException e = assertThrows(InversionException.class, () -> new DirectSolver().prepare(op));
        assertEquals(InversionException.Reason.SINGULAR, e.reason());
        assertEquals("the empirical-fisher matrix of 24 training samples has rank at most 24 < p = 31, so with λ = 0"
                + " it is singular; set the hessian regularization λ > 0 (--lambda, e.g. 0.01)", e.getMessage());
        assertEquals(0, op.passes());
    }

    /**
     * F + λI has at most N + 1 = 25 distinct eigenvalues, so block CG on 8 right-hand sides spans them
     * within ceil(25 / 8) = 4 iterations in exact arithmetic. Right-hand sides of very different
     * lengths (1 down to 1e-9) must keep their search directions: when the drop tolerance of the
     * orthonormalisation was relative to the longest row, the short ones lost theirs and the solve
     * did not converge within p = 31 iterations.
     */
    @Test
    void blockCgKeepsTheDirectionsOfShortRightHandSides() {
        double[][] b = directions(8, 100);
        for (int i = 0; i < b.length; i++) {
            for (int q = 0; q < P; q++) {
                b[i][q] *= Math.pow(1e-3, i % 4);
            }
        }
        try (HostScope scope = HostBackend.scope(); DataHessianOperator op = operator(0)) {
            InverseHvpResult r = new ConjugateGradientSolver(new CgOptions(1e-10, 0, 0).withBlock(true)).prepare(op)
                    .solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 8, P), scope);
            double[] x = r.x().toDoubleArray();
            for (int i = 0; i < 8; i++) {
                Fixtures.assertCloseToScale(Fixtures.gaussSolve(fisher, b[i]), Arrays.copyOfRange(x, i * P, (i + 1) * P),
                        1e-8);
            }
            assertTrue(r.info().iterations() <= 6, "block CG took " + r.info().iterations() + " iterations");
        }
    }
}
