package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/** Block CG, preconditioned CG and the precomputed operator against Gaussian elimination on the closed form. */
class BlockCgAndPreconditionersTest {

    private static final int D = 30;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.01;
    private static final CgOptions TIGHT = new CgOptions(1e-10, 0, 0);

    private final Batch data = Fixtures.logisticData(200, D, 51);
    private final double[] theta = Fixtures.parameters(P, 52);
    private final double[][] a = Fixtures.logisticHessian(data, theta, LAMBDA);

    private DataHessianOperator operator(Batch batch) {
        return new DataHessianOperator(new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC), theta),
                new InMemoryDataSource(batch), LAMBDA, 100);
    }

    private double[][] rhs(int k) {
        return Fixtures.logisticGradients(data.slice(0, k), theta);
    }

    @Test
    void blockCgOnSixteenRightHandSidesMatchesDirectWithFewerIterationsAndPasses() {
        double[][] b = rhs(16);
        int worstSingle = 0;
        long singlePasses = 0;
        try (HostScope scope = HostBackend.scope()) {
            for (double[] row : b) {
                DataHessianOperator op = operator(data);
                InverseHvpResult r = new ConjugateGradientSolver(TIGHT).prepare(op)
                        .solve(scope.fromArray(row, DType.FLOAT64, P), scope);
                worstSingle = Math.max(worstSingle, r.info().iterations());
                singlePasses += op.passes();
            }
            DataHessianOperator op = operator(data);
            InverseHvpResult r = new ConjugateGradientSolver(TIGHT.withBlock(true)).prepare(op)
                    .solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 16, P), scope);
            double[] x = r.x().toDoubleArray();
            for (int k = 0; k < 16; k++) {
                double[] exact = Fixtures.gaussSolve(a, b[k]);
                double[] got = java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P);
                assertTrue(Fixtures.maxAbsDiff(exact, got) < 1e-6 * Math.sqrt(Fixtures.dot(exact, exact)),
                        "rhs " + k);
            }
            assertTrue(r.info().converged());
            assertEquals("block", r.info().details().get("variant"));
            assertTrue(r.info().iterations() <= worstSingle, "block " + r.info().iterations() + " vs worst single "
                    + worstSingle);
            assertTrue(op.passes() < singlePasses, "block passes " + op.passes() + " vs " + singlePasses);
            assertEquals(2, scope.liveTensors() - 2 * 16, "rhs and x only beyond the single solves");
        }
    }

    /**
     * Dependent right-hand sides (a duplicate, a sum of two others, a zero row) make the first block
     * of directions rank 3 of 6: every right-hand side still gets Direct's solution (the zero row:
     * zero). That the orthonormalisation keeps 3 directions is {@code DenseLinalgTest}'s.
     */
    @Test
    void blockCgSolvesDependentRightHandSidesFromTheDirectionsItKeeps() {
        double[][] g = rhs(3);
        double[] sum = new double[P];
        for (int q = 0; q < P; q++) {
            sum[q] = g[0][q] + g[1][q];
        }
        double[][] b = {g[0], g[1], g[0].clone(), sum, g[2], new double[P]};
        try (HostScope scope = HostBackend.scope()) {
            DataHessianOperator op = operator(data);
            InverseHvpResult r = new ConjugateGradientSolver(TIGHT.withBlock(true)).prepare(op)
                    .solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, b.length, P), scope);
            assertTrue(r.info().converged(), r.info().toString());
            double[] x = r.x().toDoubleArray();
            for (int k = 0; k < b.length; k++) {
                double[] exact = Fixtures.gaussSolve(a, b[k]);
                double[] got = java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P);
                assertTrue(Fixtures.maxAbsDiff(exact, got) <= 1e-6 * Math.sqrt(Fixtures.dot(exact, exact)),
                        "rhs " + k + ": " + Fixtures.maxAbsDiff(exact, got));
            }
        }
    }

    @Test
    void blockCgDetectsNegativeCurvature() {
        double[][] m = {{1, 0, 0}, {0, 2, 0}, {0, 0, -4}};
        HessianOperator op = MatrixOperators.of(m, 0.0);
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new ConjugateGradientSolver(
                    CgOptions.defaults().withBlock(true)).prepare(op)
                    .solve(scope.fromArray(new double[] {1, 1, 1, 1, -1, 1}, DType.FLOAT64, 2, 3), scope));
            assertTrue(e.getMessage().contains("not positive definite")
                    && e.getMessage().contains("increase the hessian regularization λ"), e.getMessage());
            assertEquals(1, scope.liveTensors());
            assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        }
    }

    /**
     * Logistic regression, p = 101, λ = 0.01: features 0..49 scaled geometrically from 30 to 0.3 and
     * the rest by 0.01, so the Hessian has 50 spread eigenvalues from about 200 down to about 0.02
     * above a cluster at λ (condition number about 1e4).
     */
    @Test
    void preconditionersMatchDirectAndNystroemCutsIterationsOnAnIllConditionedProblem() {
        int d = 100;
        int p = d + 1;
        Batch base = Fixtures.logisticData(400, d, 61);
        double[] x = base.x().clone();
        for (int i = 0; i < base.size(); i++) {
            for (int j = 0; j < d; j++) {
                x[i * d + j] *= j < 50 ? 30 * Math.pow(0.01, j / 49.0) : 0.01;
            }
        }
        Batch ill = new Batch(x, d, base.y(), 1);
        double[] th = Fixtures.parameters(p, 62);
        double[][] exactA = Fixtures.logisticHessian(ill, th, LAMBDA);
        double[][] b = Fixtures.logisticGradients(ill.slice(0, 3), th);
        int[] iterations = new int[3];
        PreconditionerKind[] kinds = {PreconditionerKind.NONE, PreconditionerKind.JACOBI, PreconditionerKind.NYSTROEM};
        try (HostScope scope = HostBackend.scope()) {
            for (int q = 0; q < kinds.length; q++) {
                CgOptions o = new CgOptions(1e-8, 0, 10 * p).withPreconditioner(kinds[q], 50);
                DataHessianOperator op = new DataHessianOperator(new HostModel(Fixtures.dense(d, 1,
                        Loss.BINARY_LOGISTIC), th), new InMemoryDataSource(ill), LAMBDA, 400);
                try (ConjugateGradientSolver.CgInverse inv = new ConjugateGradientSolver(o).prepare(op)) {
                    InverseHvpResult r = inv.solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 3, p), scope);
                    assertTrue(r.info().converged(), kinds[q] + " " + r.info().warnings());
                    double[] sol = r.x().toDoubleArray();
                    for (int k = 0; k < 3; k++) {
                        double[] exact = Fixtures.gaussSolve(exactA, b[k]);
                        double[] got = java.util.Arrays.copyOfRange(sol, k * p, (k + 1) * p);
                        assertTrue(Fixtures.maxAbsDiff(exact, got) < 1e-6 * Math.sqrt(Fixtures.dot(exact, exact)),
                                kinds[q] + " rhs " + k);
                    }
                    iterations[q] = r.info().iterations();
                    if (kinds[q] != PreconditionerKind.NONE) {
                        assertEquals(kinds[q].name().toLowerCase(), r.info().details().get("preconditioner"));
                    }
                }
            }
        }
        System.out.printf("ill-conditioned CG iterations (p = %d): none=%d jacobi=%d nystroem(rank 50)=%d%n",
                p, iterations[0], iterations[1], iterations[2]);
        assertTrue(2 * iterations[2] <= iterations[0], "Nyström " + iterations[2] + " vs none " + iterations[0]);
    }

    @Test
    void precomputedOperatorGivesTheSameSolutionsWithOneDataPass() {
        double[][] b = rhs(2);
        DataHessianOperator op = operator(data);
        try (HostScope scope = HostBackend.scope();
             ConjugateGradientSolver.CgInverse inv = new ConjugateGradientSolver(TIGHT.withPrecompute(true)).prepare(op)) {
            InverseHvpResult r = inv.solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 2, P), scope);
            assertEquals(1, op.passes(), "only the materialisation reads the data");
            assertEquals(Boolean.TRUE, r.info().details().get("precomputed"));
            double[] x = r.x().toDoubleArray();
            for (int k = 0; k < 2; k++) {
                double[] exact = Fixtures.gaussSolve(a, b[k]);
                assertTrue(Fixtures.maxAbsDiff(exact, java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P)) < 1e-8);
            }
        }
    }

    @Test
    void jacobiEstimateApproachesTheTrueDiagonal() {
        try (JacobiPreconditioner j = JacobiPreconditioner.fit(operator(data), 4000, 9)) {
            double[] inv = j.inverseDiagonal();
            for (int i = 0; i < P; i++) {
                assertEquals(a[i][i], 1 / inv[i], 0.1 * a[i][i], "diagonal " + i);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JacobiPreconditioner.fit(operator(data), 0, 9));
        assertTrue(e.getMessage().startsWith("probes"), e.getMessage());
    }

    @Test
    void blockCgThatStopsEarlyIsAnErrorWithTheTrueResidualUnlessAllowed() {
        double[][] b = rhs(4);
        CgOptions three = new CgOptions(1e-10, 0, 3).withBlock(true);
        try (HostScope scope = HostBackend.scope()) {
            Tensor rhs = scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 4, P);
            InversionException e = assertThrows(InversionException.class,
                    () -> new ConjugateGradientSolver(three).prepare(operator(data)).solve(rhs, scope));
            assertEquals(InversionException.Reason.NOT_CONVERGED, e.reason());
            assertTrue(e.getMessage().startsWith("block conjugate gradient did not converge (reached maxiter = 3): 4 of"
                    + " 4 right-hand sides miss"), e.getMessage());
            InverseHvpResult r = new ConjugateGradientSolver(three.withAllowUnconverged(true)).prepare(operator(data))
                    .solve(rhs, scope);
            assertFalse(r.info().converged());
            double[] x = r.x().toDoubleArray();
            double[] residuals = r.info().residuals();
            for (int k = 0; k < 4; k++) {
                double[] ax = Fixtures.times(a, java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P));
                double rr = 0;
                for (int q = 0; q < P; q++) {
                    rr += (b[k][q] - ax[q]) * (b[k][q] - ax[q]);
                }
                assertEquals(Math.sqrt(rr / Fixtures.dot(b[k], b[k])), residuals[k], 1e-9, "true residual of rhs " + k);
            }
            assertTrue(e.getMessage().contains(String.format(java.util.Locale.ROOT, "%.3g", r.info().maxResidual())),
                    e.getMessage());
        }
    }

    @Test
    void factoryReadsTheNewSettings() {
        ConjugateGradientSolver s = (ConjugateGradientSolver) new ConjugateGradientSolverFactory().create(
                SolverSettings.of(Map.of("block", "true", "preconditioner", "nystroem", "preconditioner_rank", "5",
                        "hutchinson_probes", "3", "seed", "7", "precompute", "yes")));
        assertEquals(new CgOptions(0, 1e-7, 0, true, PreconditionerKind.NYSTROEM, 5, 3, 7, true, false),
                s.options());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConjugateGradientSolverFactory()
                .create(SolverSettings.of(Map.of("preconditioner", "ilu"))));
        assertTrue(e.getMessage().contains("preconditioner") && e.getMessage().contains("jacobi"), e.getMessage());
    }
}
