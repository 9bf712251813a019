package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

/** LiSSA against Gaussian elimination on the closed-form logistic Hessian; divergence and dampening. */
class LissaSolverTest {

    private static final int D = 8;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.1;
    private final Batch data = Fixtures.logisticData(300, D, 71);
    private final double[] theta = Fixtures.parameters(P, 72);
    private final double[][] a = Fixtures.logisticHessian(data, theta, LAMBDA);

    private DataHessianOperator operator() {
        return new DataHessianOperator(new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC), theta),
                new InMemoryDataSource(data), LAMBDA, 100);
    }

    private static double relErr(double[] exact, double[] got) {
        double[] d = new double[exact.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = exact[i] - got[i];
        }
        return Math.sqrt(Fixtures.dot(d, d) / Fixtures.dot(exact, exact));
    }

    /** Documented setting: scale ≈ the largest eigenvalue of H + λI, rtol 1e-6, full-data iterations. */
    @Test
    void fullDataLissaMatchesDirect() {
        double[][] b = Fixtures.logisticGradients(data.slice(0, 3), theta);
        double lmax = Fixtures.jacobiEigen(a)[0][0];
        try (HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = new LissaSolver(new LissaOptions(2000, 0, lmax, 1e-6, 0)).prepare(operator())
                    .solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 3, P), scope);
            assertTrue(r.info().converged(), r.info().warnings().toString());
            assertEquals(InversionMethod.LISSA, r.info().method());
            double[] x = r.x().toDoubleArray();
            for (int k = 0; k < 3; k++) {
                double err = relErr(Fixtures.gaussSolve(a, b[k]), java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P));
                assertTrue(err < 1e-4, "rhs " + k + " relative error " + err);
            }
            assertTrue(r.info().maxResidual() <= 1e-6);
            assertEquals((long) r.info().iterations(), ((Number) r.info().details().get("passes")).longValue());
        }
    }

    @Test
    void miniBatchLissaIsCloseToDirect() {
        double[] b = Fixtures.logisticGradients(data.slice(0, 1), theta)[0];
        double lmax = Fixtures.jacobiEigen(a)[0][0];
        try (HostScope scope = HostBackend.scope()) {
            // the mini-batch estimate of the residual stays at the noise level of the batches, above rtol:
            // the solve is unconverged by design, and the test opts in to keep its (approximate) numbers
            InverseHvpResult r = new LissaSolver(new LissaOptions(600, 0, 2 * lmax, 1e-4, 100)
                    .withAllowUnconverged(true)).prepare(operator())
                    .solve(scope.fromArray(b, DType.FLOAT64, P), scope);
            double err = relErr(Fixtures.gaussSolve(a, b), r.x().toDoubleArray());
            assertTrue(err < 5e-2, "mini-batch LiSSA relative error " + err);
            assertEquals(100, r.info().details().get("batchSize"));
        }
    }

    @Test
    void dampeningSolvesTheShiftedSystem() {
        double[] b = Fixtures.logisticGradients(data.slice(0, 1), theta)[0];
        double scale = 2;
        double dampen = 0.05;
        double[][] shifted = new double[P][];
        for (int i = 0; i < P; i++) {
            shifted[i] = a[i].clone();
            shifted[i][i] += scale * dampen;
        }
        try (HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = new LissaSolver(new LissaOptions(3000, dampen, scale, 1e-9, 0)).prepare(operator())
                    .solve(scope.fromArray(b, DType.FLOAT64, P), scope);
            assertTrue(relErr(Fixtures.gaussSolve(shifted, b), r.x().toDoubleArray()) < 1e-7);
            assertEquals(LAMBDA + scale * dampen, (Double) r.info().details().get("effectiveRegularization"), 1e-15);
        }
    }

    @Test
    void negativeCurvatureAndTooSmallScaleAreReportedAsDivergence() {
        double[][] indefinite = {{1, 0, 0}, {0, 2, 0}, {0, 0, -0.5}};
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new LissaSolver(
                    new LissaOptions(1000, 0, 2, 1e-6, 0)).prepare(MatrixOperators.of(indefinite, 0))
                    .solve(scope.fromArray(new double[] {1, 1, 1}, DType.FLOAT64, 3), scope));
            assertTrue(e.getMessage().contains("LiSSA diverged")
                    && e.getMessage().contains("increase the scale or the dampening")
                    && e.getMessage().contains("increase the hessian regularization λ"), e.getMessage());
            assertEquals(InversionException.Reason.DIVERGENCE, e.reason());
            double[][] stiff = {{1, 0}, {0, 30}};
            e = assertThrows(InversionException.class, () -> new LissaSolver(new LissaOptions(1000, 0, 10, 1e-6, 0))
                    .prepare(MatrixOperators.of(stiff, 0)).solve(scope.fromArray(new double[] {1, 1}, DType.FLOAT64, 2),
                            scope));
            assertTrue(e.getMessage().contains("scale = 10.0"), e.getMessage());
            assertEquals(InversionException.Reason.DIVERGENCE, e.reason());
            assertEquals(0, scope.liveTensors() - 2, "only the two right-hand sides remain");
        }
    }

    @Test
    void reachingMaxiterIsAnErrorUnlessAllowed() {
        double[] b = Fixtures.logisticGradients(data.slice(0, 1), theta)[0];
        LissaOptions fiveIterations = new LissaOptions(5, 0, 10, 1e-8, 0);
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new LissaSolver(fiveIterations)
                    .prepare(operator()).solve(scope.fromArray(b, DType.FLOAT64, P), scope));
            assertEquals(InversionException.Reason.NOT_CONVERGED, e.reason());
            assertTrue(e.getMessage().contains("maxiter = 5") && e.getMessage().contains("--allow-unconverged"),
                    e.getMessage());
            InverseHvpResult r = new LissaSolver(fiveIterations.withAllowUnconverged(true)).prepare(operator())
                    .solve(scope.fromArray(b, DType.FLOAT64, P), scope);
            assertFalse(r.info().converged());
            assertTrue(r.info().warnings().get(0).contains("maxiter = 5"), r.info().warnings().toString());
            assertEquals(5, r.info().iterations());
        }
    }

    @Test
    void optionsAndFactoryValidate() {
        assertEquals(new LissaOptions(1000, 0, 10, 1e-4, 0), LissaOptions.defaults());
        LissaSolver s = (LissaSolver) new LissaSolverFactory().create(SolverSettings.of(Map.of("maxiter", "50",
                "dampen", "0.1", "scale", "3", "rtol", "1e-3", "batch_size", "32")));
        assertEquals(new LissaOptions(50, 0.1, 3, 1e-3, 32), s.options());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LissaOptions(10, 1, 1, 0, 0));
        assertTrue(e.getMessage().startsWith("dampen"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LissaOptions(10, 0, 0, 0, 0));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LissaSolverFactory().create(SolverSettings.of(Map.of("h0", "1"))));
        assertTrue(e.getMessage().contains("'h0'"), e.getMessage());
    }
}
