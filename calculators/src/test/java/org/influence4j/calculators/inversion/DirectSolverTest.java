package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

class DirectSolverTest {

    private static final int D = 6;
    private static final int P = D + 1;
    private final Batch data = Fixtures.logisticData(120, D, 3);
    private final double[] theta = Fixtures.parameters(P, 4);
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);

    /** A Hessian whose dense matrices cannot fit the heap is refused in one line before the data pass. */
    @Test
    void aHessianLargerThanTheHeapIsRefusedBeforeTheDataPass() {
        int d = 39_999;
        DataHessianOperator op = new DataHessianOperator(new HostModel(Fixtures.dense(d, 1, Loss.BINARY_LOGISTIC),
                new double[d + 1]), new InMemoryDataSource(Fixtures.logisticData(4, d, 1)), 0.1, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new DirectSolver().prepare(op));
        assertTrue(e.getMessage().startsWith("method direct: p = 40000 parameters need at least 24414 MB of heap")
                && e.getMessage().contains("use the cg, arnoldi or ekfac method, or a larger -Xmx"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertEquals(0, op.passes(), "no data pass");
    }

    /**
     * An empirical Fisher too large for the heap says why its factor rows cannot stand in for the
     * dense matrix: 10,000 samples are more rows than it inverts through (the data is never read).
     */
    @Test
    void anEmpiricalFisherLargerThanTheHeapSaysWhyItsFactorRowsCannotBeUsed() {
        int d = 39_999;
        DataSource unread = new DataSource() {
            @Override
            public long size() {
                return 10_000;
            }

            @Override
            public int numFeatures() {
                return d;
            }

            @Override
            public int labelWidth() {
                return 1;
            }

            @Override
            public java.util.Iterator<Batch> batches(int batchSize) {
                throw new AssertionError("the data must not be read");
            }
        };
        DataHessianOperator op = new DataHessianOperator(new HostModel(Fixtures.dense(d, 1, Loss.BINARY_LOGISTIC),
                new double[d + 1]), unread, 0.1, 4, Curvature.EMPIRICAL_FISHER);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new DirectSolver().prepare(op));
        assertTrue(e.getMessage().contains("of heap for the dense p x p matrix") && e.getMessage().contains(
                "; the empirical-fisher matrix's 10000 factor rows are more than the 8192 it may be inverted through;"
                        + " use the cg, arnoldi or ekfac method"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void solvesEqualGaussianElimination() {
        double lambda = 0.01;
        DataHessianOperator op = new DataHessianOperator(new HostModel(spec, theta), new InMemoryDataSource(data),
                lambda, 32);
        double[][] a = Fixtures.logisticHessian(data, theta, lambda);
        double[][] rhs = Fixtures.logisticGradients(data.slice(0, 4), theta);
        try (HostScope scope = HostBackend.scope(); InverseHessian inv = new DirectSolver().prepare(op)) {
            InverseHvpResult block = inv.solve(scope.fromArray(Fixtures.flatten(rhs), DType.FLOAT64, 4, P), scope);
            assertArrayEquals(new long[] {4, P}, block.x().shape());
            double[] x = block.x().toDoubleArray();
            for (int r = 0; r < 4; r++) {
                double[] expected = Fixtures.gaussSolve(a, rhs[r]);
                for (int q = 0; q < P; q++) {
                    assertEquals(expected[q], x[r * P + q], 1e-10);
                }
            }
            assertEquals(InversionMethod.DIRECT, block.info().method());
            assertTrue(block.info().converged());
            assertTrue(block.info().warnings().isEmpty());
            assertEquals("cholesky", block.info().details().get("factorization"));
            assertTrue(block.info().maxResidual() < 1e-13, "residual " + block.info().maxResidual());

            InverseHvpResult single = inv.solve(scope.fromArray(rhs[2], DType.FLOAT64, P), scope);
            assertArrayEquals(new long[] {P}, single.x().shape());
            assertTrue(Fixtures.maxAbsDiff(Fixtures.gaussSolve(a, rhs[2]), single.x().toDoubleArray()) < 1e-10);
        }
        assertEquals(1, op.passes(), "one data pass to build the matrix, none per solve");
    }

    @Test
    void returnsTheRightHandSidesDtypeInTheGivenScope() {
        DataHessianOperator op = new DataHessianOperator(new HostModel(spec, theta), new InMemoryDataSource(data),
                0.1, 64);
        double[] b = Fixtures.logisticGradients(data.slice(0, 1), theta)[0];
        try (HostScope scope = HostBackend.scope(); HostScope other = HostBackend.scope();
             InverseHessian inv = new DirectSolver().prepare(op)) {
            Tensor rhs = scope.fromArray(b, DType.FLOAT32, P);
            Tensor x = inv.solve(rhs, other).x();
            assertEquals(DType.FLOAT32, x.dtype());
            assertEquals(other, x.scope());
            assertEquals(1, other.liveTensors());
        }
    }

    @Test
    void indefiniteMatrixIsRefusedWithItsSmallestEigenvalueUnlessLuIsAllowed() {
        double[][] a = {{2, 1, 0}, {1, -1, 0.5}, {0, 0.5, 3}};
        double smallest = Fixtures.jacobiEigen(a)[0][2];
        double[] b = {1, -2, 0.5};
        InversionException e = assertThrows(InversionException.class,
                () -> new DirectSolver().prepare(MatrixOperators.of(a, 0.0)));
        assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        assertTrue(smallest < -1, "the example's smallest eigenvalue " + smallest);
        String theta = String.format(Locale.ROOT, "%.3g", smallest);
        String fix = String.format(Locale.ROOT, "%.3g", -smallest);
        assertTrue(e.getMessage().contains("smallest eigenvalue is " + theta)
                && e.getMessage().contains("positive definite only for λ > " + fix)
                && e.getMessage().contains("--curvature gauss-newton")
                && e.getMessage().contains("allow_indefinite = true"), e.getMessage());

        try (HostScope scope = HostBackend.scope(); InverseHessian inv = new DirectSolver(new DirectOptions(true, false))
                .prepare(MatrixOperators.of(a, 0.0))) {
            InverseHvpResult r = inv.solve(scope.fromArray(b, DType.FLOAT64, 3), scope);
            assertTrue(Fixtures.maxAbsDiff(Fixtures.gaussSolve(a, b), r.x().toDoubleArray()) < 1e-12);
            assertEquals("lu", r.info().details().get("factorization"));
            assertEquals(smallest, (Double) r.info().details().get("smallestEigenvalue"), 1e-9);
            List<String> w = r.info().warnings();
            assertEquals(1, w.size());
            assertTrue(w.get(0).contains("indefinite") && w.get(0).contains("not at a minimum")
                    && w.get(0).contains("allow_indefinite = true"), w.get(0));
        }
    }

    @Test
    void singularHessianIsRefusedWithAdviceToRegularize() {
        ModelSpec softmax = Fixtures.dense(3, 3, Loss.SOFTMAX_CROSS_ENTROPY);
        Batch sm = Fixtures.softmaxData(60, 3, 3, 8);
        HostModel model = new HostModel(softmax, Fixtures.parameters(softmax.numParameters(), 2));
        DataHessianOperator singular = new DataHessianOperator(model, new InMemoryDataSource(sm), 0.0, 64);
        InversionException e = assertThrows(InversionException.class, () -> new DirectSolver().prepare(singular));
        assertTrue(e.getMessage().contains("numerically singular")
                && e.getMessage().contains("raise the hessian regularization λ to at least"), e.getMessage());
        assertEquals(InversionException.Reason.SINGULAR, e.reason());
        DataHessianOperator regularized = new DataHessianOperator(model, new InMemoryDataSource(sm), 0.01, 64);
        new DirectSolver().prepare(regularized).close();
    }

    /**
     * A duplicated feature gives the logistic Hessian an exact null direction (w_0 − w_1): at λ = 0
     * the matrix is singular up to rounding. It is refused with a condition number estimate and a λ,
     * and that λ is accepted.
     */
    @Test
    void duplicatedFeatureAtLambdaZeroIsRefusedWithAConditionEstimateAndTheLambdaThatFixesIt() {
        double[] x = data.x().clone();
        for (int i = 0; i < data.size(); i++) {
            x[i * D + 1] = x[i * D];
        }
        Batch duplicated = new Batch(x, D, data.y(), 1);
        HostModel model = new HostModel(spec, theta);
        InversionException e = assertThrows(InversionException.class, () -> new DirectSolver().prepare(
                new DataHessianOperator(model, new InMemoryDataSource(duplicated), 0.0, 64)));
        assertEquals(InversionException.Reason.SINGULAR, e.reason());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("λ to at least (\\S+)$").matcher(e.getMessage());
        assertTrue((e.getMessage().contains("condition number estimate") || e.getMessage().contains("eigenvalue"))
                && e.getMessage().contains("duplicated feature") && m.find(), e.getMessage());
        double suggested = Double.parseDouble(m.group(1));
        assertTrue(suggested > 0 && suggested < 1e-6, "suggested λ " + suggested);
        try (HostScope scope = HostBackend.scope(); InverseHessian inv = new DirectSolver().prepare(
                new DataHessianOperator(model, new InMemoryDataSource(duplicated), suggested, 64))) {
            InverseHvpResult r = inv.solve(scope.fromArray(Fixtures.logisticGradients(duplicated.slice(0, 1),
                    theta)[0], DType.FLOAT64, P), scope);
            double condition = (Double) r.info().details().get("conditionEstimate");
            assertTrue(condition > 1e6 && condition < 1e10, "condition at the suggested λ " + condition);
        }
    }

    /**
     * p = 400 crosses {@link org.influence4j.api.internal.BlockSpdInverse#LEAF}, so that the inverse is
     * built by Schur complements on the backend: {@code A = Q D Q} (Q a Householder reflection) has the
     * inverse {@code Q D⁻¹ Q} and the 1-norm condition number computed here exactly.
     */
    @Test
    void blockInverseSolvesAgainstTheClosedFormWithAnHonestConditionEstimate() {
        int p = 400;
        double[] d = new double[p];
        for (int i = 0; i < p; i++) {
            d[i] = 1 + 99.0 * ((i * 37) % p) / (p - 1);
        }
        double[] u = Fixtures.parameters(p, 21);
        double[][] a = reflected(u, d);
        double[] inverseD = new double[p];
        for (int i = 0; i < p; i++) {
            inverseD[i] = 1 / d[i];
        }
        double[][] inverse = reflected(u, inverseD);
        int k = 3;
        double[] b = Fixtures.parameters(k * p, 22);
        try (HostScope scope = HostBackend.scope(); InverseHessian inv = new DirectSolver().prepare(
                MatrixOperators.of(a, 0.0))) {
            InverseHvpResult r = inv.solve(scope.fromArray(b, DType.FLOAT64, k, p), scope);
            InverseHvpResult r32 = inv.solve(scope.fromArray(b, DType.FLOAT32, k, p), scope);
            assertEquals(DType.FLOAT32, r32.x().dtype());
            double[] x = r.x().toDoubleArray();
            double[] x32 = r32.x().toDoubleArray();
            for (int row = 0; row < k; row++) {
                double[] expected = new double[p];
                double norm = 0;
                double error = 0;
                double error32 = 0;
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) {
                        expected[i] += inverse[i][j] * b[row * p + j];
                    }
                    norm += expected[i] * expected[i];
                    error += Math.pow(x[row * p + i] - expected[i], 2);
                    error32 += Math.pow(x32[row * p + i] - expected[i], 2);
                }
                assertTrue(Math.sqrt(error / norm) < 1e-12, "row " + row + ": " + Math.sqrt(error / norm));
                assertTrue(Math.sqrt(error32 / norm) < 1e-6, "float32 row " + row + ": " + Math.sqrt(error32 / norm));
            }
            assertTrue(r.info().maxResidual() < 1e-13, "residual " + r.info().maxResidual());
            assertEquals("cholesky", r.info().details().get("factorization"));
            double exact = oneNorm(a) * oneNorm(inverse);
            double estimate = (Double) r.info().details().get("conditionEstimate");
            assertTrue(estimate <= exact * (1 + 1e-9) && estimate >= exact / 3, estimate + " against κ₁ = " + exact);

            double[] bad = b.clone();
            bad[p + 7] = Double.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> inv.solve(scope.fromArray(bad, DType.FLOAT64, k, p), scope));
            assertEquals("rhs: row 1 has a non-finite value NaN at index 7", e.getMessage());
        }
        d[123] = -0.5;
        InversionException e = assertThrows(InversionException.class,
                () -> new DirectSolver().prepare(MatrixOperators.of(reflected(u, d), 0.0)));
        assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        assertTrue(e.getMessage().contains("smallest eigenvalue is -0.500"), e.getMessage());
    }

    /**
     * The residuals are sketched by default where p exceeds the sketch's columns, and measured exactly
     * with {@code exact_residuals} or a small p ({@link ResidualRowsTest} checks the estimates); the
     * solutions are the same either way.
     */
    @Test
    void residualsAreSketchedByDefaultAndExactOnRequest() {
        int p = 150;
        double[] d = new double[p];
        for (int i = 0; i < p; i++) {
            d[i] = 1 + (i * 53) % p;
        }
        double[][] a = reflected(Fixtures.parameters(p, 31), d);
        int k = 5;
        double[] b = Fixtures.parameters(k * p, 32);
        try (HostScope scope = HostBackend.scope();
             InverseHessian sketched = new DirectSolver().prepare(MatrixOperators.of(a, 0.0));
             InverseHessian exact = new DirectSolver(new DirectOptions(false, true))
                     .prepare(MatrixOperators.of(a, 0.0));
             InverseHessian small = new DirectSolver()
                     .prepare(MatrixOperators.of(new double[][] {{2, 1}, {1, 3}}, 0.0))) {
            InverseHvpResult estimated = sketched.solve(scope.fromArray(b, DType.FLOAT64, k, p), scope);
            InverseHvpResult measured = exact.solve(scope.fromArray(b, DType.FLOAT64, k, p), scope);
            assertEquals("sketched", estimated.info().details().get("residuals"));
            assertEquals("exact", measured.info().details().get("residuals"));
            assertEquals("exact", small.solve(scope.fromArray(new double[] {1, 2}, DType.FLOAT64, 2), scope).info()
                    .details().get("residuals"));
            assertArrayEquals(measured.x().toDoubleArray(), estimated.x().toDoubleArray());
            assertTrue(estimated.info().maxResidual() < 1e-13, "sketched " + estimated.info().maxResidual());
            assertTrue(measured.info().maxResidual() < 1e-13, "exact " + measured.info().maxResidual());
        }
    }

    /** @return {@code Q diag(d) Q} with {@code Q = I − 2uuᵀ/‖u‖²} */
    private static double[][] reflected(double[] u, double[] d) {
        int p = d.length;
        double uu = 0;
        for (double v : u) {
            uu += v * v;
        }
        double s = 0;
        for (int i = 0; i < p; i++) {
            s += u[i] * u[i] * d[i] / uu;
        }
        double[][] a = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                double w = u[i] * u[j] / uu;
                a[i][j] = (i == j ? d[i] : 0) - 2 * w * (d[i] + d[j]) + 4 * w * s;
            }
        }
        return a;
    }

    private static double oneNorm(double[][] a) {
        double max = 0;
        for (int j = 0; j < a.length; j++) {
            double sum = 0;
            for (double[] row : a) {
                sum += Math.abs(row[j]);
            }
            max = Math.max(max, sum);
        }
        return max;
    }

    @Test
    void factoryDeclaresAllowIndefiniteAndIsAServiceProvider() {
        DirectSolverFactory f = new DirectSolverFactory();
        assertEquals(InversionMethod.DIRECT, f.method());
        assertEquals(InversionRegistry.GENERIC, f.modelType());
        assertEquals(List.of("allow_indefinite", "exact_residuals"), f.settings().stream().map(s -> s.key()).toList());
        assertEquals(DirectOptions.defaults(), ((DirectSolver) f.create(SolverSettings.empty())).options());
        assertTrue(((DirectSolver) f.create(SolverSettings.of(Map.of("allow_indefinite", "yes")))).options()
                .allowIndefinite());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.create(SolverSettings.of(Map.of("rtol", "1e-3"))));
        assertTrue(e.getMessage().contains("'rtol'") && e.getMessage().contains("direct"), e.getMessage());
        Set<String> found = ServiceLoader.load(InverseHvpSolverFactory.class).stream()
                .map(pr -> pr.type().getName()).collect(Collectors.toSet());
        assertTrue(found.containsAll(Set.of(DirectSolverFactory.class.getName(),
                ConjugateGradientSolverFactory.class.getName())), found.toString());
    }
}
