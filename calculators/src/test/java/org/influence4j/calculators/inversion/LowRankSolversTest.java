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
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Arnoldi (thick-restart Lanczos) and Nyström against the closed-form logistic Hessian and its
 * independent Jacobi eigendecomposition.
 */
class LowRankSolversTest {

    private static final double LAMBDA = 0.01;

    /** Logistic regression with d features: operator, exact A = H + λI and right-hand sides. */
    private record Problem(HessianOperator operator, double[][] a, double[][] rhs, int p) {
    }

    private static Problem logistic(int d, double lambda) {
        Batch data = Fixtures.logisticData(300, d, 31);
        double[] theta = Fixtures.parameters(d + 1, 32);
        DataHessianOperator op = new DataHessianOperator(new HostModel(Fixtures.dense(d, 1, Loss.BINARY_LOGISTIC),
                theta), new InMemoryDataSource(data), lambda, 100);
        double[][] g = Fixtures.logisticGradients(data.slice(0, 4), theta);
        return new Problem(op, Fixtures.logisticHessian(data, theta, lambda), g, d + 1);
    }

    private static double[] solve(org.influence4j.api.inversion.InverseHessian inv, double[] b, int p) {
        try (HostScope scope = HostBackend.scope()) {
            return inv.solve(scope.fromArray(b, DType.FLOAT64, p), scope).x().toDoubleArray();
        }
    }

    private static double relErr(double[] expected, double[] got) {
        return Fixtures.maxAbsDiff(expected, got) / Math.sqrt(Fixtures.dot(expected, expected));
    }

    /** Σ_{i>=k} v_i (v_iᵀ b) / (d_i + λ) from the independent eigendecomposition of H. */
    private static double[] discarded(double[][] eig, double[] b, int k, double lambda) {
        int p = b.length;
        double[] out = new double[p];
        for (int i = k; i < p; i++) {
            double[] v = eig[i + 1];
            double c = Fixtures.dot(v, b) / (eig[0][i] + lambda);
            for (int q = 0; q < p; q++) {
                out[q] += c * v[q];
            }
        }
        return out;
    }

    private static double[][] minusLambda(double[][] a, double lambda) {
        double[][] h = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            h[i] = a[i].clone();
            h[i][i] -= lambda;
        }
        return h;
    }

    @Test
    void arnoldiWithFullRankMatchesDirect() {
        Problem pr = logistic(8, LAMBDA);
        try (LowRankInverse inv = new ArnoldiSolver(ArnoldiOptions.ofRank(pr.p())).prepare(pr.operator())) {
            for (double[] b : pr.rhs()) {
                double err = relErr(Fixtures.gaussSolve(pr.a(), b), solve(inv, b, pr.p()));
                assertTrue(err < 1e-8, "full-rank Arnoldi vs direct " + err);
            }
        }
    }

    /** A small and a large Krylov basis, both restarted (m &lt; p = 41). */
    @ParameterizedTest(name = "rank {0}, Krylov dimension {1}")
    @CsvSource({"6, 14", "20, 36"})
    void arnoldiAtRankKErrsExactlyByTheDiscardedSpectrum(int k, int m) {
        Problem pr = logistic(40, LAMBDA);
        double[][] eig = Fixtures.jacobiEigen(minusLambda(pr.a(), LAMBDA));
        try (LowRankInverse inv = new ArnoldiSolver(new ArnoldiOptions(k, m, 1e-10, 0, 3, false))
                .prepare(pr.operator())) {
            double[] theta = inv.eigenvalues();
            for (int i = 0; i < k; i++) {
                assertEquals(eig[0][i], theta[i], 1e-9 * eig[0][0], "eigenvalue " + i);
            }
            double[] b = pr.rhs()[0];
            InverseHvpResult r;
            try (HostScope scope = HostBackend.scope()) {
                r = inv.solve(scope.fromArray(b, DType.FLOAT64, pr.p()), scope);
                double[] x = r.x().toDoubleArray();
                double[] exact = Fixtures.gaussSolve(pr.a(), b);
                double[] error = new double[pr.p()];
                for (int q = 0; q < error.length; q++) {
                    error[q] = exact[q] - x[q];
                }
                double[] expected = discarded(eig, b, k, LAMBDA);
                assertTrue(Fixtures.maxAbsDiff(expected, error) < 1e-7 * Math.sqrt(Fixtures.dot(expected, expected)),
                        "error not explained by the discarded spectrum");
                assertTrue(Math.sqrt(Fixtures.dot(error, error)) > 1e-3 * Math.sqrt(Fixtures.dot(exact, exact)),
                        "rank " + k + " must be visibly approximate here");
            }
            Map<String, Object> d = r.info().details();
            assertEquals(InversionMethod.ARNOLDI, r.info().method());
            assertTrue(r.info().converged());
            assertEquals(k, d.get("rank"));
            assertEquals(m, d.get("krylovDimension"));
            assertTrue((Integer) d.get("restarts") >= 1, "m = " + m + " < p = 41 needs restarts: " + d);
            assertEquals(k, ((List<?>) d.get("eigenvalues")).size());
        }
    }

    @Test
    void arnoldiThatRunsOutOfRestartsIsAnErrorUnlessAllowed() {
        Problem pr = logistic(40, LAMBDA);
        ArnoldiOptions oneRestart = new ArnoldiOptions(6, 8, 1e-12, 1, 3, false);
        InversionException e = assertThrows(InversionException.class,
                () -> new ArnoldiSolver(oneRestart).prepare(pr.operator()));
        assertEquals(InversionException.Reason.NOT_CONVERGED, e.reason());
        assertTrue(e.getMessage().contains("max_iter = 1") && e.getMessage().contains("worst relative Ritz residual")
                && e.getMessage().contains("--allow-unconverged"), e.getMessage());
        try (LowRankInverse inv = new ArnoldiSolver(oneRestart.withAllowUnconverged(true)).prepare(pr.operator());
             HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = inv.solve(scope.fromArray(pr.rhs()[0], DType.FLOAT64, pr.p()), scope);
            assertFalse(r.info().converged());
            assertTrue(r.info().warnings().stream().anyMatch(w -> w.contains("allow_unconverged = true")),
                    r.info().warnings().toString());
        }
    }

    @Test
    void arnoldiRefusesAKeptEigenvalueBelowMinusLambda() {
        double lambda = 1;
        double[][] a = {{6, 0, 0, 0}, {0, 5, 0, 0}, {0, 0, -1, 0}, {0, 0, 0, 2}};
        HessianOperator op = MatrixOperators.of(a, lambda);
        InversionException e = assertThrows(InversionException.class,
                () -> new ArnoldiSolver(ArnoldiOptions.ofRank(4)).prepare(op));
        assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        assertTrue(e.getMessage().contains("not positive definite")
                && e.getMessage().contains("increase the hessian regularization λ"), e.getMessage());
        try (LowRankInverse inv = new ArnoldiSolver(new ArnoldiOptions(2, 4, 1e-10, 0, 0, false)).prepare(op);
             HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = inv.solve(scope.fromArray(new double[] {6, 5, 1, 1}, DType.FLOAT64, 4), scope);
            double[] x = r.x().toDoubleArray();
            double[] expected = {1, 1, 0, 0};
            assertTrue(Fixtures.maxAbsDiff(expected, x) < 1e-10, java.util.Arrays.toString(x));
            assertTrue(r.info().warnings().isEmpty(), r.info().warnings().toString());
        }
    }

    @Test
    void nystroemWithFullRankMatchesDirect() {
        Problem pr = logistic(8, LAMBDA);
        try (LowRankInverse inv = new NystroemSolver(new NystroemOptions(pr.p(), 5)).prepare(pr.operator())) {
            for (double[] b : pr.rhs()) {
                double err = relErr(Fixtures.gaussSolve(pr.a(), b), solve(inv, b, pr.p()));
                assertTrue(err < 1e-8, "full-rank Nyström vs direct " + err);
            }
        }
    }

    @Test
    void nystroemIsExactForAHessianOfRankKAndItsErrorFollowsTheDiscardedSpectrum() {
        int p = 30;
        double lambda = 0.05;
        double[][] q = Fixtures.jacobiEigen(randomSymmetric(p, 41));
        double[] spectrum = new double[p];
        for (int i = 0; i < p; i++) {
            spectrum[i] = i < 5 ? 10.0 / (i + 1) : 0;
        }
        double[] b = Fixtures.features(1, p, 42);
        double[][] a = compose(q, spectrum, lambda);
        try (LowRankInverse inv = new NystroemSolver(new NystroemOptions(5, 1)).prepare(MatrixOperators.of(a, lambda))) {
            double err = relErr(Fixtures.gaussSolve(a, b), solve(inv, b, p));
            assertTrue(err < 1e-9, "rank-5 Nyström of a rank-5 Hessian " + err);
        }
        for (int i = 5; i < p; i++) {
            spectrum[i] = 10.0 * Math.pow(0.5, i);
        }
        a = compose(q, spectrum, lambda);
        double[] exact = Fixtures.gaussSolve(a, b);
        double previous = Double.POSITIVE_INFINITY;
        for (int k : new int[] {5, 10, 20}) {
            double tail = 0;
            for (int i = k; i < p; i++) {
                tail += spectrum[i];
            }
            try (LowRankInverse inv = new NystroemSolver(new NystroemOptions(k, 2)).prepare(
                    MatrixOperators.of(a, lambda))) {
                double[] x = solve(inv, b, p);
                double[] d = new double[p];
                for (int i = 0; i < p; i++) {
                    d[i] = x[i] - exact[i];
                }
                double err = Math.sqrt(Fixtures.dot(d, d));
                double bound = 3 * tail * Math.sqrt(Fixtures.dot(exact, exact)) / lambda;
                assertTrue(err <= bound, "rank " + k + ": error " + err + " above 3·Σ_{i>k} d_i·‖x‖/λ = " + bound);
                assertTrue(err < previous, "error must shrink as the rank grows");
                previous = err;
            }
        }
    }

    @Test
    void nystroemSketchesHPlusLambdaWhenHIsIndefinite() {
        double lambda = 1;
        double[][] a = {{6, 0.5, 0}, {0.5, 4, 0}, {0, 0, 0.5}};
        double[] b = {1, 2, 3};
        try (LowRankInverse inv = new NystroemSolver(new NystroemOptions(3, 0)).prepare(MatrixOperators.of(a, lambda));
             HostScope scope = HostBackend.scope()) {
            InverseHvpResult r = inv.solve(scope.fromArray(b, DType.FLOAT64, 3), scope);
            assertTrue(relErr(Fixtures.gaussSolve(a, b), r.x().toDoubleArray()) < 1e-10);
            assertTrue(r.info().warnings().get(0).contains("H + λI (λ = 1.0) was sketched"),
                    r.info().warnings().toString());
        }
        double[][] bad = {{6, 0, 0}, {0, 4, 0}, {0, 0, -0.5}};
        InversionException e = assertThrows(InversionException.class,
                () -> new NystroemSolver(new NystroemOptions(3, 0)).prepare(MatrixOperators.of(bad, lambda)));
        assertEquals(InversionException.Reason.NEGATIVE_CURVATURE, e.reason());
        assertTrue(e.getMessage().contains("increase the hessian regularization λ"), e.getMessage());
    }

    /**
     * The bilinear form through the factors equals solving and multiplying, for Arnoldi (kept space
     * only) and Nyström (with the 1/λ complement), at a rank below p where the two differ.
     */
    @Test
    void bilinearFormEqualsSolveTimesTheRightRows() {
        Problem pr = logistic(8, LAMBDA);
        double[] right = Fixtures.features(5, pr.p(), 77);
        double[] left = new double[pr.rhs().length * pr.p()];
        for (int i = 0; i < pr.rhs().length; i++) {
            System.arraycopy(pr.rhs()[i], 0, left, i * pr.p(), pr.p());
        }
        try (LowRankInverse arnoldi = new ArnoldiSolver(ArnoldiOptions.ofRank(4)).prepare(pr.operator());
             LowRankInverse nystroem = new NystroemSolver(new NystroemOptions(4, 5)).prepare(pr.operator());
             HostScope scope = HostBackend.scope()) {
            Tensor l = scope.fromArray(left, DType.FLOAT64, pr.rhs().length, pr.p());
            Tensor r = scope.fromArray(right, DType.FLOAT64, 5, pr.p());
            for (LowRankInverse inv : List.of(arnoldi, nystroem)) {
                double[] expected = inv.solve(l, scope).x().matmul(r.transpose()).toDoubleArray();
                InverseHvpResult got = inv.bilinear(l, r, scope);
                assertArrayEquals(new long[] {pr.rhs().length, 5}, got.x().shape());
                assertTrue(relErr(expected, got.x().toDoubleArray()) < 1e-12, inv + " " + java.util.Arrays.toString(
                        got.x().toDoubleArray()));
                assertTrue(got.info().converged());
            }
            double[] bad = left.clone();
            bad[3] = Double.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> arnoldi.bilinear(scope.fromArray(bad, DType.FLOAT64, pr.rhs().length, pr.p()), r, scope));
            assertTrue(e.getMessage().startsWith("rhs: row 0 has a non-finite value NaN at index 3"), e.getMessage());
        }
    }

    @Test
    void factoriesReadSettingsAndRejectTypos() {
        ArnoldiSolver a = (ArnoldiSolver) new ArnoldiSolverFactory().create(SolverSettings.of(Map.of(
                "rank_estimate", "7", "krylov_dimension", "30", "tol", "1e-8", "max_iter", "5", "seed", "3",
                "precompute", "true")));
        assertEquals(new ArnoldiOptions(7, 30, 1e-8, 5, 3, true), a.options());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ArnoldiSolverFactory().create(SolverSettings.of(Map.of("rank", "7"))));
        assertTrue(e.getMessage().contains("'rank'") && e.getMessage().contains("rank_estimate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ArnoldiOptions(10, 5, 1e-6, 0, 0, false));
        assertTrue(e.getMessage().startsWith("krylov_dimension"), e.getMessage());
        NystroemSolver n = (NystroemSolver) new NystroemSolverFactory().create(SolverSettings.of(Map.of("rank", "4")));
        assertEquals(new NystroemOptions(4, 0), n.options());
        e = assertThrows(IllegalArgumentException.class, () -> new NystroemOptions(0, 0));
        assertTrue(e.getMessage().startsWith("rank"), e.getMessage());
    }

    private static double[][] randomSymmetric(int p, long seed) {
        double[] v = Fixtures.features(p, p, seed);
        double[][] m = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                m[i][j] = v[i * p + j] + v[j * p + i];
            }
        }
        return m;
    }

    /** Q diag(spectrum) Qᵀ + λI from the eigenvectors (rows 1..p of a jacobiEigen result). */
    private static double[][] compose(double[][] q, double[] spectrum, double lambda) {
        int p = spectrum.length;
        double[][] a = new double[p][p];
        for (int k = 0; k < p; k++) {
            double[] v = q[k + 1];
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    a[i][j] += spectrum[k] * v[i] * v[j];
                }
            }
        }
        for (int i = 0; i < p; i++) {
            a[i][i] += lambda;
        }
        return a;
    }
}
