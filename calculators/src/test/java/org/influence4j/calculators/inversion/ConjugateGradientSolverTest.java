package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.influence4j.calculators.testing.RecordingProgress;
import org.junit.jupiter.api.Test;

class ConjugateGradientSolverTest {

    private static final int D = 8;
    private static final int P = D + 1;
    private static final double LAMBDA = 0.01;
    private static final CgOptions TIGHT = new CgOptions(1e-12, 0, 0);
    private final Batch data = Fixtures.logisticData(200, D, 21);
    private final double[] theta = Fixtures.parameters(P, 22);
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final double[][] a = Fixtures.logisticHessian(data, theta, LAMBDA);

    private DataHessianOperator operator() {
        return new DataHessianOperator(new HostModel(spec, theta), new InMemoryDataSource(data), LAMBDA, 64);
    }

    /** Five right-hand sides of different difficulty: per-sample gradients, a unit vector and 0. */
    private double[][] rhs() {
        double[][] g = Fixtures.logisticGradients(data.slice(10, 13), theta);
        double[] unit = new double[P];
        unit[P - 1] = 1;
        return new double[][] {g[0], g[1], unit, new double[P], g[2]};
    }

    private double[] direct(double[] b) {
        try (HostScope scope = HostBackend.scope();
             var inv = new DirectSolver().prepare(operator())) {
            return inv.solve(scope.fromArray(b, DType.FLOAT64, P), scope).x().toDoubleArray();
        }
    }

    @Test
    void singleRightHandSideMatchesDirect() {
        double[] b = rhs()[0];
        try (HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = new ConjugateGradientSolver(TIGHT).prepare(operator())
                    .solve(scope.fromArray(b, DType.FLOAT64, P), scope);
            assertArrayEquals(new long[] {P}, r.x().shape());
            assertTrue(Fixtures.maxAbsDiff(direct(b), r.x().toDoubleArray()) < 1e-8);
            assertTrue(Fixtures.maxAbsDiff(Fixtures.gaussSolve(a, b), r.x().toDoubleArray()) < 1e-8);
            SolverInfo info = r.info();
            assertEquals(InversionMethod.CG, info.method());
            assertTrue(info.converged());
            assertTrue(info.iterations() >= 1 && info.iterations() <= 3 * P, "iterations " + info.iterations());
            assertTrue(info.maxResidual() <= 1e-12);
            assertEquals(2, scope.liveTensors(), "rhs and x only");
        }
    }

    /** Direct, LiSSA and Arnoldi report their tasks too (one vocabulary for every solver). */
    @Test
    void everySolverReportsItsTaskToTheProgressListener() {
        for (InverseHvpSolver solver : List.of(new DirectSolver(), new LissaSolver(LissaOptions.defaults()
                .withAllowUnconverged(true)), new ArnoldiSolver(ArnoldiOptions.ofRank(P)))) {
            RecordingProgress progress = new RecordingProgress();
            try (HostScope scope = HostBackend.scope()) {
                solver.withProgress(progress).prepare(operator()).solve(scope.fromArray(rhs()[0], DType.FLOAT64, P),
                        scope);
            }
            List<String> events = progress.events();
            String name = solver.method().configName();
            assertTrue(events.get(0).startsWith("started " + (name.equals("lissa") ? "LiSSA" : name.equals("direct")
                    ? "Direct" : "Arnoldi")), name + ": " + events);
            assertEquals("finished", events.get(events.size() - 1), name);
            assertTrue(progress.done() > 0, name + ": " + events);
        }
    }

    @Test
    void blockOfFiveRunsInLockstepWithOneOperatorApplicationPerIteration() {
        double[][] b = rhs();
        DataHessianOperator op = operator();
        RecordingProgress progress = new RecordingProgress();
        ConjugateGradientSolver solver = new ConjugateGradientSolver(TIGHT).withProgress(progress);
        try (HostScope scope = HostBackend.scope()) {
            Tensor rhs = scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 5, P);
            InverseHvpResult r = solver.prepare(op).solve(rhs, scope);
            assertArrayEquals(new long[] {5, P}, r.x().shape());
            double[] x = r.x().toDoubleArray();
            for (int k = 0; k < 5; k++) {
                double[] expected = direct(b[k]);
                for (int q = 0; q < P; q++) {
                    assertEquals(expected[q], x[k * P + q], 1e-8, "rhs " + k);
                }
            }
            SolverInfo info = r.info();
            assertTrue(info.converged());
            assertEquals(info.iterations() + 1, op.passes(),
                    "one data pass per lockstep iteration and one for the true residual");
            assertEquals(info.iterations() + 1L, ((Number) info.details().get("passes")).longValue());
            @SuppressWarnings("unchecked")
            List<Integer> perRhs = (List<Integer>) info.details().get("iterationsPerRhs");
            assertEquals(0, perRhs.get(3), "a zero right-hand side needs no iteration");
            List<String> events = progress.events();
            assertEquals("started CG (5 right-hand sides) " + TIGHT.maxIterationsFor(P), events.get(0));
            assertEquals(info.iterations(), progress.done(), "one progress step per lockstep iteration");
            assertEquals("finished", events.get(events.size() - 1));
            assertEquals(2, scope.liveTensors(), "rhs and x only: no temporaries leak");

            for (int k = 0; k < 5; k++) {
                InverseHvpResult alone = new ConjugateGradientSolver(TIGHT).prepare(operator())
                        .solve(scope.fromArray(b[k], DType.FLOAT64, P), scope);
                assertEquals(perRhs.get(k), alone.info().iterations(), "same recurrence as a solo run, rhs " + k);
                assertTrue(Fixtures.maxAbsDiff(alone.x().toDoubleArray(),
                        java.util.Arrays.copyOfRange(x, k * P, (k + 1) * P)) < 1e-13);
            }
        }
    }

    @Test
    void exactInitialGuessConvergesImmediately() {
        double[][] b = rhs();
        double[] exact = new double[5 * P];
        for (int k = 0; k < 5; k++) {
            System.arraycopy(Fixtures.gaussSolve(a, b[k]), 0, exact, k * P, P);
        }
        try (HostScope scope = HostBackend.scope()) {
            ConjugateGradientSolver.CgInverse inv = new ConjugateGradientSolver().prepare(operator());
            InverseHvpResult r = inv.solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 5, P),
                    scope.fromArray(exact, DType.FLOAT64, 5, P), scope);
            assertTrue(r.info().iterations() <= 1, "iterations " + r.info().iterations());
            assertTrue(r.info().converged());
            assertTrue(Fixtures.maxAbsDiff(exact, r.x().toDoubleArray()) < 1e-9);
            Tensor wrong = scope.zeros(DType.FLOAT64, 4, P);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> inv.solve(scope.fromArray(Fixtures.flatten(b), DType.FLOAT64, 5, P), wrong, scope));
            assertTrue(e.getMessage().startsWith("x0: shape [4, 9]"), e.getMessage());
        }
    }

    @Test
    void reachingMaxiterIsAnErrorNamingTheTrueResidualUnlessAllowed() {
        double[] b = rhs()[0];
        CgOptions twoIterations = new CgOptions(1e-12, 0, 2);
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new ConjugateGradientSolver(
                    twoIterations).prepare(operator()).solve(scope.fromArray(b, DType.FLOAT64, P), scope));
            assertEquals(InversionException.Reason.NOT_CONVERGED, e.reason());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertEquals(1, scope.liveTensors(), "the failed solve freed its work tensors");

            InverseHvpResult r = new ConjugateGradientSolver(twoIterations.withAllowUnconverged(true))
                    .prepare(operator()).solve(scope.fromArray(b, DType.FLOAT64, P), scope);
            SolverInfo info = r.info();
            assertFalse(info.converged());
            assertEquals(2, info.iterations());
            assertEquals(1, info.warnings().size());
            assertTrue(info.warnings().get(0).contains("maxiter = 2")
                    && info.warnings().get(0).contains("allow_unconverged = true"), info.warnings().get(0));
            double[] x = r.x().toDoubleArray();
            double[] ax = Fixtures.times(a, x);
            double rr = 0;
            for (int q = 0; q < P; q++) {
                rr += (b[q] - ax[q]) * (b[q] - ax[q]);
            }
            double trueResidual = Math.sqrt(rr / Fixtures.dot(b, b));
            assertEquals(trueResidual, info.maxResidual(), 1e-10, "reported residual is the true one");
            assertTrue(e.getMessage().contains("maxiter = 2") && e.getMessage().contains(
                    String.format(java.util.Locale.ROOT, "%.3g", trueResidual))
                    && e.getMessage().contains("--allow-unconverged") && e.getMessage().contains("λ"), e.getMessage());
        }
    }

    /** A float32 operator: H + 1e-4·I of the logistic model, every stored value rounded to float. */
    private DataHessianOperator float32Operator() {
        ModelSpec spec32 = ModelSpec.builder(D).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT32).build();
        return new DataHessianOperator(new HostModel(spec32, theta), new InMemoryDataSource(data), 1e-4, 64);
    }

    /**
     * In float32 the recursive residual keeps shrinking after the true residual has stopped at the
     * rounding level: at rtol = 1e-9 the recursion claims convergence, the true residual (float64
     * norms) cannot follow, restarts from it do not get there either, and the solve is not converged.
     */
    @Test
    void float32SolveWhoseRecursionClaimsConvergenceIsAnErrorByItsTrueResidual() {
        double[] b = rhs()[0];
        CgOptions options = new CgOptions(1e-9, 0, 10 * P);
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new ConjugateGradientSolver(options)
                    .prepare(float32Operator()).solve(scope.fromArray(b, DType.FLOAT32, P), scope));
            assertEquals(InversionException.Reason.NOT_CONVERGED, e.reason());
            assertTrue(e.getMessage().contains("true residual in float64 (the operator in FLOAT32)")
                    && e.getMessage().contains("the recursive residual met the tolerance but the true residual did not,"
                    + " also after"), e.getMessage());

            InverseHvpResult r = new ConjugateGradientSolver(options.withAllowUnconverged(true))
                    .prepare(float32Operator()).solve(scope.fromArray(b, DType.FLOAT32, P), scope);
            SolverInfo info = r.info();
            assertFalse(info.converged());
            @SuppressWarnings("unchecked")
            List<Double> recursive = (List<Double>) info.details().get("recursiveResiduals");
            assertTrue(recursive.get(0) <= 1e-9, "the recursion claims convergence: " + recursive);
            assertTrue(info.maxResidual() > 1e-8, "the true residual does not: " + info.maxResidual());
            assertTrue(e.getMessage().contains(String.format(java.util.Locale.ROOT, "%.3g", info.maxResidual())),
                    e.getMessage());
            assertTrue((Integer) info.details().get("restarts") >= 1, info.details().toString());
        }
    }

    /**
     * At rtol = 8e-8 the float32 recursion stops on 2.6e-8 while the true residual is above 8e-8 (block
     * CG: 9.1e-8); one restart from the true residual brings it under 8e-8, in lockstep and in block CG.
     */
    @Test
    void float32RecursionThatStopsEarlyIsRestartedFromTheTrueResidual() {
        double[] b = rhs()[0];
        CgOptions options = new CgOptions(8e-8, 0, 10 * P);
        try (HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = new ConjugateGradientSolver(options)
                    .prepare(float32Operator()).solve(scope.fromArray(b, DType.FLOAT32, P), scope);
            SolverInfo info = r.info();
            @SuppressWarnings("unchecked")
            List<Double> recursive = (List<Double>) info.details().get("recursiveResiduals");
            assertTrue(recursive.get(0) <= 8e-8, recursive.toString());
            assertTrue(info.converged() && info.maxResidual() <= 8e-8, info.toString());
            assertEquals(1, info.details().get("restarts"), info.details().toString());

            SolverInfo block = new ConjugateGradientSolver(options.withBlock(true))
                    .prepare(float32Operator()).solve(scope.fromArray(b, DType.FLOAT32, P), scope).info();
            assertTrue(block.converged() && block.maxResidual() <= 8e-8, block.toString());
            assertEquals(1, block.details().get("restarts"), "block CG restarts the same way: " + block.details());
        }
    }

    @Test
    void indefiniteOperatorThrowsAskingForRegularization() {
        double[][] m = {{1, 0, 0}, {0, 2, 0}, {0, 0, -4}};
        HessianOperator op = MatrixOperators.of(m, 0.0);
        try (HostScope scope = HostBackend.scope()) {
            InversionException e = assertThrows(InversionException.class, () -> new ConjugateGradientSolver()
                    .prepare(op).solve(scope.fromArray(new double[] {1, 1, 1}, DType.FLOAT64, 3), scope));
            assertTrue(e.getMessage().contains("not positive definite")
                    && e.getMessage().contains("increase the hessian regularization λ"), e.getMessage());
            assertEquals(1, scope.liveTensors(), "the failed solve freed its work tensors");
            assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        }
    }

    @Test
    void solvesInTheOperatorDtypeAndReturnsTheRhsDtype() {
        double[] b = rhs()[1];
        try (HostScope scope = HostBackend.scope()) {
            Tensor x = new ConjugateGradientSolver(TIGHT).prepare(operator())
                    .solve(scope.fromArray(b, DType.FLOAT32, P), scope).x();
            assertEquals(DType.FLOAT32, x.dtype());
            double[] expected = direct(b);
            double[] got = x.toDoubleArray();
            for (int q = 0; q < P; q++) {
                assertEquals(expected[q], got[q], 1e-5 * (1 + Math.abs(expected[q])));
            }
        }
    }

    @Test
    void optionsAndFactoryValidateSettings() {
        CgOptions d = CgOptions.defaults();
        assertEquals(0, d.rtol(), "by the dtype");
        assertEquals(1e-7, d.rtolFor(DType.FLOAT64));
        assertEquals(1e-5, d.rtolFor(DType.FLOAT32));
        assertEquals(1e-9, new CgOptions(1e-9, 0, 0).rtolFor(DType.FLOAT32), "a given rtol is used as it is");
        assertEquals(1e-7, d.atol());
        assertEquals(P, d.maxIterationsFor(P));
        assertEquals(5, d.withMaxIterations(5).maxIterationsFor(P));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CgOptions(-1, 0, 0));
        assertTrue(e.getMessage().startsWith("rtol"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CgOptions(0, Double.NaN, 0));
        assertTrue(e.getMessage().startsWith("atol"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CgOptions(0, 0, -3));
        assertTrue(e.getMessage().startsWith("maxiter"), e.getMessage());

        ConjugateGradientSolverFactory f = new ConjugateGradientSolverFactory();
        assertEquals(InversionMethod.CG, f.method());
        ConjugateGradientSolver s = (ConjugateGradientSolver) f.create(
                SolverSettings.of(Map.of("rtol", "1e-9", "atol", "0", "maxiter", "17")));
        assertEquals(new CgOptions(1e-9, 0, 17), s.options());
        assertEquals(CgOptions.defaults(), ((ConjugateGradientSolver) f.create(SolverSettings.empty())).options());
        e = assertThrows(IllegalArgumentException.class, () -> f.create(SolverSettings.of(Map.of("rtoll", "1"))));
        assertTrue(e.getMessage().contains("'rtoll'") && e.getMessage().contains("atol, block"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> f.create(SolverSettings.of(Map.of("maxiter", "ten"))));
        assertTrue(e.getMessage().contains("'maxiter'"), e.getMessage());
    }
}
