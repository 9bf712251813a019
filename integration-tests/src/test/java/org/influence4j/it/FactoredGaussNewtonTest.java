package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.inversion.ArnoldiOptions;
import org.influence4j.calculators.inversion.ArnoldiSolver;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.inversion.DirectOptions;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.inversion.FactoredGaussNewtonOperator;
import org.influence4j.calculators.inversion.LowRankInverse;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Gauss-Newton operator kept as its square-root factors ({@link FactoredGaussNewtonOperator})
 * applies the same matrix as the data passes of {@link DataHessianOperator}: on the LeNet-style
 * fixture on every backend and the residual one (batch norm: the broadcast path) on the reference
 * backend, in batches of 3 (the last one shorter), vectors, blocks and
 * the dense matrix (times a vector) agree to 1e-12 in float64; and Arnoldi's precompute option uses it on the
 * Gauss-Newton matrix and finds the same eigenvalues as without it.
 */
class FactoredGaussNewtonTest {

    static Stream<Arguments> backendsAndFixtures() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            out.add(Arguments.of(backend, "lenet"));
            if (backend.equals(AvailableBackends.REFERENCE)) {
                out.add(Arguments.of(backend, "resnet"));
            }
        }
        return out.stream();
    }


    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("backendsAndFixtures")
    void factoredProductsEqualTheDataPasses(String backendName, String fixture) {
        GraphFixture f = GraphFixture.load(fixture);
        Backend backend = BackendDiscovery.load().require(backendName);
        int p = f.parameters().length;
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            DataHessianOperator passes = new DataHessianOperator(model, new InMemoryDataSource(f.batch()), 0.25, 3,
                    Curvature.GAUSS_NEWTON);
            assertTrue(FactoredGaussNewtonOperator.fits(passes));
            try (FactoredGaussNewtonOperator factored = new FactoredGaussNewtonOperator(passes)) {
                Tensor v = scope.fromArray(TestSupport.gaussians(p, 1), DType.FLOAT64, p);
                Tensor vs = scope.fromArray(TestSupport.gaussians(3 * p, 2), DType.FLOAT64, 3, p);
                long before = factored.passes();
                double[] vector = factored.apply(v, scope).toDoubleArray();
                assertEquals(before + 1, factored.passes(), "an apply counts as a pass");
                double[] expected = passes.apply(v, scope).toDoubleArray();
                assertClose("vector", expected, vector);
                Tensor block = factored.apply(vs, scope);
                assertArrayEquals(new long[] {3, p}, block.shape());
                assertClose("block", passes.apply(vs, scope).toDoubleArray(), block.toDoubleArray());
                double[] matrix = factored.toMatrix(scope).toDoubleArray();
                double[] times = new double[p];
                double[] x = v.toDoubleArray();
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < p; j++) {
                        times[i] += matrix[i * p + j] * x[j];
                    }
                }
                assertClose("matrix times vector", expected, times);
                Tensor wrong = scope.fromArray(new double[p + 1], DType.FLOAT64, p + 1);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> factored.apply(wrong, scope));
                assertTrue(e.getMessage().startsWith("vs: shape [" + (p + 1) + "]"), e.getMessage());
            }
        }
    }

    /**
     * Direct inverts the Gauss-Newton matrix and the empirical Fisher of the fixture's 8 samples
     * (r = 80 and 8 factor rows, fewer than p) through their factor rows (Woodbury): the solutions of
     * three right-hand sides equal a Cholesky solve of the operator's dense matrix (EJML, float64),
     * with exact residuals at rounding level and the condition number of the dense matrix.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Curvature.class, names = {"GAUSS_NEWTON", "EMPIRICAL_FISHER"})
    void directInvertsThroughTheFactorRows(Curvature curvature) {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        int p = f.parameters().length;
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            DataHessianOperator op = new DataHessianOperator(model, new InMemoryDataSource(f.batch()), 0.05, 3,
                    curvature);
            double[] b = TestSupport.gaussians(3 * p, 5);
            DMatrixRMaj a = new DMatrixRMaj(p, p, true, op.toMatrix(scope).toDoubleArray());
            DMatrixRMaj x = new DMatrixRMaj(p, 3);
            LinearSolverDense<DMatrixRMaj> cholesky = LinearSolverFactory_DDRM.chol(p);
            assertTrue(cholesky.setA(a.copy()));
            DMatrixRMaj bt = new DMatrixRMaj(3, p, true, b);
            cholesky.solve(CommonOps_DDRM.transpose(bt, null), x);
            double[] expected = CommonOps_DDRM.transpose(x, null).getData();
            for (boolean exact : new boolean[] {false, true}) {
                try (InverseHessian inverse = new DirectSolver(new DirectOptions(false, exact)).prepare(op)) {
                    InverseHvpResult solved = inverse.solve(scope.fromArray(b, DType.FLOAT64, 3, p), scope);
                    assertEquals("woodbury", solved.info().details().get("factorization"));
                    assertEquals(exact ? "exact" : "sketched", solved.info().details().get("residuals"));
                    assertTrue(TestSupport.relErr(solved.x().toDoubleArray(), expected) < 1e-9,
                            "relative error " + TestSupport.relErr(solved.x().toDoubleArray(), expected));
                    for (double r : solved.info().residuals()) {
                        assertTrue(r < 1e-12, "residual " + r);
                    }
                    EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(p, false, true);
                    assertTrue(eig.decompose(a.copy()));
                    double largest = 0;
                    double smallest = Double.POSITIVE_INFINITY;
                    for (int i = 0; i < p; i++) {
                        largest = Math.max(largest, eig.getEigenvalue(i).getReal());
                        smallest = Math.min(smallest, eig.getEigenvalue(i).getReal());
                    }
                    double condition = largest / smallest;
                    double estimate = (double) solved.info().details().get("conditionEstimate");
                    assertTrue(estimate <= condition * (1 + 1e-9) && estimate > condition * (1 - 1e-3),
                            "condition estimate " + estimate + " vs " + condition);
                }
            }
        }
    }

    private static void assertClose(String what, double[] expected, double[] actual) {
        double err = TestSupport.relErr(actual, expected);
        assertTrue(err < 1e-12, what + ": relative error " + err);
    }

    /** Precompute on the Gauss-Newton matrix keeps the factors; on the Hessian, the dense matrix. */
    @Test
    void arnoldiPrecomputesTheFactorsOfTheGaussNewtonMatrix() {
        GraphFixture f = GraphFixture.load("lenet");
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        int p = f.parameters().length;
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope()) {
            InMemoryDataSource data = new InMemoryDataSource(f.batch());
            DataHessianOperator gn = new DataHessianOperator(model, data, 0.01, 4, Curvature.GAUSS_NEWTON);
            ArnoldiOptions plain = new ArnoldiOptions(5, 0, 1e-10, 0, 7, false);
            ArnoldiOptions precompute = new ArnoldiOptions(5, 0, 1e-10, 0, 7, true);
            Tensor rhs = scope.fromArray(TestSupport.gaussians(p, 3), DType.FLOAT64, 1, p);
            try (LowRankInverse a = new ArnoldiSolver(plain).prepare(gn);
                 LowRankInverse b = new ArnoldiSolver(precompute).prepare(gn)) {
                double[] expected = a.eigenvalues();
                double[] actual = b.eigenvalues();
                assertClose("eigenvalues", expected, actual);
                InverseHvpResult solved = b.solve(rhs, scope);
                assertEquals("gauss-newton-factors", solved.info().details().get("precomputedForm"));
                assertEquals("none", a.solve(rhs, scope).info().details().get("precomputedForm"));
            }
            DataHessianOperator hessian = new DataHessianOperator(model, data, 10.0, 4, Curvature.HESSIAN);
            assertFalse(FactoredGaussNewtonOperator.fits(hessian));
            try (LowRankInverse c = new ArnoldiSolver(precompute).prepare(hessian)) {
                assertEquals("dense", c.solve(rhs, scope).info().details().get("precomputedForm"));
            }
        }
    }
}
