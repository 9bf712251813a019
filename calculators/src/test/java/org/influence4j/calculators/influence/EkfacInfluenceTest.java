package org.influence4j.calculators.influence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.influence4j.calculators.testing.RecordingProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * EK-FAC on a single Dense softmax layer (multinomial logistic regression), where the Hessian equals
 * the Gauss-Newton matrix {@code (1/n) Σ (diag(p_i) − p_i p_iᵀ) ⊗ ã_i ã_iᵀ} and everything can be
 * computed exactly in plain Java.
 */
class EkfacInfluenceTest {

    private static final int D = 3;
    private static final int C = 4;
    private static final int SA = D + 1;
    private static final int P = C * SA;
    private final ModelSpec spec = Fixtures.dense(D, C, Loss.SOFTMAX_CROSS_ENTROPY);
    private final Batch train = Fixtures.softmaxData(50, D, C, 41);
    private final Batch test = Fixtures.softmaxData(6, D, C, 42);
    private final double[] theta = Fixtures.parameters(P, 43);

    private static double[] softmax(Batch b, double[] th, int i) {
        double[] z = new double[C];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < C; k++) {
            z[k] = th[C * D + k];
            for (int j = 0; j < D; j++) {
                z[k] += th[k * D + j] * b.x()[i * D + j];
            }
            max = Math.max(max, z[k]);
        }
        double s = 0;
        for (int k = 0; k < C; k++) {
            z[k] = Math.exp(z[k] - max);
            s += z[k];
        }
        for (int k = 0; k < C; k++) {
            z[k] /= s;
        }
        return z;
    }

    private static double[] augmented(Batch b, int i) {
        double[] a = new double[SA];
        System.arraycopy(b.x(), i * D, a, 0, D);
        a[D] = 1;
        return a;
    }

    /** Flat parameter index of entry (o, j) of [W | b]. */
    private static int flat(int o, int j) {
        return j < D ? o * D + j : C * D + o;
    }

    private EkfacInfluence ekfac(double[] th, double lambda, boolean update, EkfacCurvature curvature) {
        return new EkfacInfluence(new HostModel(spec, th), new EkfacOptions(lambda, update, curvature, 16))
                .fit(new InMemoryDataSource(train));
    }

    @ParameterizedTest
    @EnumSource(EkfacCurvature.class)
    void factorsEqualTheirDefinitions(EkfacCurvature curvature) {
        int n = train.size();
        double[] a = new double[SA * SA];
        double[] g = new double[C * C];
        for (int i = 0; i < n; i++) {
            double[] at = augmented(train, i);
            double[] p = softmax(train, theta, i);
            for (int r = 0; r < SA; r++) {
                for (int c = 0; c < SA; c++) {
                    a[r * SA + c] += at[r] * at[c] / n;
                }
            }
            if (curvature == EkfacCurvature.FISHER) {
                for (int r = 0; r < C; r++) {
                    for (int c = 0; c < C; c++) {
                        g[r * C + c] += ((r == c ? p[r] : 0) - p[r] * p[c]) / n;
                    }
                }
            } else {
                double sumSqrt = 0;
                for (int k = 0; k < C; k++) {
                    sumSqrt += Math.sqrt(p[k]);
                }
                double[] d = new double[C];
                for (int k = 0; k < C; k++) {
                    d[k] = Math.sqrt(p[k]) - p[k] * sumSqrt;
                }
                for (int r = 0; r < C; r++) {
                    for (int c = 0; c < C; c++) {
                        g[r * C + c] += d[r] * d[c] / n;
                    }
                }
            }
        }
        EkfacLayer layer = ekfac(theta, 0.01, false, curvature).representation().orElseThrow().get(0);
        assertArrayEquals(a, layer.inputFactor(), 1e-13);
        assertArrayEquals(g, layer.gradientFactor(), 1e-13);
        assertDecomposes(layer.inputFactor(), layer.eigenvaluesA(), layer.eigenvectorsA(), SA);
        assertDecomposes(layer.gradientFactor(), layer.eigenvaluesG(), layer.eigenvectorsG(), C);
        double[] diag = layer.diagonal();
        for (int o = 0; o < C; o++) {
            for (int j = 0; j < SA; j++) {
                assertEquals(layer.eigenvaluesG()[o] * layer.eigenvaluesA()[j], diag[o * SA + j], 1e-15);
            }
        }
    }

    /** Q Λ Qᵀ = M, QᵀQ = I, eigenvalues ascending. */
    private static void assertDecomposes(double[] m, double[] values, double[] q, int size) {
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                double rec = 0;
                double gram = 0;
                for (int k = 0; k < size; k++) {
                    rec += q[r * size + k] * values[k] * q[c * size + k];
                    gram += q[k * size + r] * q[k * size + c];
                }
                assertEquals(m[r * size + c], rec, 1e-12);
                assertEquals(r == c ? 1 : 0, gram, 1e-12);
            }
        }
        for (int k = 1; k < size; k++) {
            assertTrue(values[k - 1] <= values[k]);
        }
    }

    /** The refit diagonal is the diagonal of the exact Hessian (= Gauss-Newton) in the Kronecker eigenbasis. */
    @Test
    void refitDiagonalIsTheExactHessianInTheEigenbasis() {
        EkfacLayer layer = ekfac(theta, 0.01, true, EkfacCurvature.FISHER).representation().orElseThrow().get(0);
        double[] h;
        try (HostScope scope = HostBackend.scope()) {
            h = new HostModel(spec, theta).hessian(train, scope).toDoubleArray();
        }
        double[] qa = layer.eigenvectorsA();
        double[] qg = layer.eigenvectorsG();
        for (int o = 0; o < C; o++) {
            for (int j = 0; j < SA; j++) {
                double[] u = new double[P];
                for (int r = 0; r < C; r++) {
                    for (int c = 0; c < SA; c++) {
                        u[flat(r, c)] = qg[r * C + o] * qa[c * SA + j];
                    }
                }
                double quad = 0;
                for (int x = 0; x < P; x++) {
                    for (int y = 0; y < P; y++) {
                        quad += u[x] * h[x * P + y] * u[y];
                    }
                }
                assertEquals(quad, layer.diagonal()[o * SA + j], 1e-13, "diagonal (" + o + ", " + j + ")");
            }
        }
    }

    /**
     * With all weights zero every p_i is uniform, so the Hessian is exactly A ⊗ G: K-FAC and EK-FAC
     * influences (UP and PERTURBATION) equal the exact ones of DirectInfluence, and so does every λ
     * of exploreHessianRegularization.
     */
    @Test
    void exactWhenTheHessianIsAKroneckerProduct() {
        double[] zero = new double[P];
        zero[C * D] = 0.0;
        for (boolean update : new boolean[] {false, true}) {
            try (EkfacInfluence ek = ekfac(zero, 0.05, update, EkfacCurvature.FISHER);
                 DirectInfluence direct = new DirectInfluence(new HostModel(spec, zero), 0.05);
                 HostScope scope = HostBackend.scope()) {
                direct.fit(new InMemoryDataSource(train));
                Batch trainPart = train.slice(0, 12);
                double[] exact = direct.influences(test, trainPart, InfluenceMode.UP, scope).toDoubleArray();
                Tensor values = ek.influences(test, trainPart, InfluenceMode.UP, scope);
                assertArrayEquals(new long[] {6, 12}, values.shape());
                Fixtures.assertCloseToScale(exact, values.toDoubleArray(), 1e-10);
                Fixtures.assertCloseToScale(direct.influenceFactors(test, scope).toDoubleArray(),
                        ek.influenceFactors(test, scope).toDoubleArray(), 1e-10);
                Fixtures.assertCloseToScale(direct.influences(test, trainPart, InfluenceMode.PERTURBATION, scope).toDoubleArray(),
                        ek.influences(test, trainPart, InfluenceMode.PERTURBATION, scope).toDoubleArray(), 1e-10);
                Map<Integer, Tensor> byLayer = ek.influencesByLayer(test, trainPart, InfluenceMode.UP, scope);
                assertEquals(java.util.Set.of(0), byLayer.keySet());
                Fixtures.assertCloseToScale(exact, byLayer.get(0).toDoubleArray(), 1e-10);
                Map<Integer, Tensor> factorsByLayer = ek.influenceFactorsByLayer(test, scope);
                assertArrayEquals(new long[] {6, P}, factorsByLayer.get(0).shape());
                Fixtures.assertCloseToScale(exact, ek.influencesFromFactorsByLayer(factorsByLayer, trainPart, InfluenceMode.UP, scope)
                        .get(0).toDoubleArray(), 1e-10);

                double[] lambdas = {0.01, 0.3};
                Map<Double, Map<Integer, Tensor>> explored = ek.exploreHessianRegularization(test, trainPart, lambdas,
                        scope);
                assertEquals(java.util.List.of(0.01, 0.3), java.util.List.copyOf(explored.keySet()));
                for (double lambda : lambdas) {
                    try (DirectInfluence d = new DirectInfluence(new HostModel(spec, zero), lambda)) {
                        d.fit(new InMemoryDataSource(train));
                        Fixtures.assertCloseToScale(d.influences(test, trainPart, InfluenceMode.UP, scope).toDoubleArray(),
                                explored.get(lambda).get(0).toDoubleArray(), 1e-10);
                    }
                }
                double[] self = ek.exploreHessianRegularization(test, null, new double[] {0.05}, scope).get(0.05)
                        .get(0).toDoubleArray();
                Fixtures.assertCloseToScale(direct.influences(test, null, InfluenceMode.UP, scope).toDoubleArray(), self, 1e-10);
            }
        }
    }

    /**
     * At general weights: the factors are {@code U diag(1/(d+λ)) Uᵀ g} with {@code U = Q_G ⊗ Q_A} mapped
     * to the flat parameter order (checked on the host), and the refit diagonal approximates the exact
     * Hessian better in Frobenius norm than the K-FAC eigenvalues (it is the optimal diagonal in that basis).
     */
    @Test
    void factorsApplyTheInverseOfTheEigenbasisApproximation() {
        double lambda = 0.01;
        double[] h;
        double[] g;
        try (HostScope scope = HostBackend.scope()) {
            h = new HostModel(spec, theta).hessian(train, scope).toDoubleArray();
            g = new HostModel(spec, theta).perSampleGradients(test, scope).toDoubleArray();
        }
        double[] errors = new double[2];
        for (int variant = 0; variant < 2; variant++) {
            try (EkfacInfluence ek = ekfac(theta, lambda, variant == 1, EkfacCurvature.FISHER);
                 HostScope scope = HostBackend.scope()) {
                EkfacLayer layer = ek.representation().orElseThrow().get(0);
                double[] u = new double[P * P]; // column (o·SA + j) is the eigenvector, in flat order
                for (int o = 0; o < C; o++) {
                    for (int j = 0; j < SA; j++) {
                        for (int r = 0; r < C; r++) {
                            for (int c = 0; c < SA; c++) {
                                u[flat(r, c) * P + o * SA + j] = layer.eigenvectorsG()[r * C + o]
                                        * layer.eigenvectorsA()[c * SA + j];
                            }
                        }
                    }
                }
                double[] d = layer.diagonal();
                double[] factors = ek.influenceFactors(test, scope).toDoubleArray();
                double scale = 0;
                double worst = 0;
                for (int t = 0; t < test.size(); t++) {
                    double[] coords = new double[P];
                    for (int k = 0; k < P; k++) {
                        for (int q = 0; q < P; q++) {
                            coords[k] += u[q * P + k] * g[t * P + q];
                        }
                        coords[k] /= d[k] + lambda;
                    }
                    for (int q = 0; q < P; q++) {
                        double expected = 0;
                        for (int k = 0; k < P; k++) {
                            expected += u[q * P + k] * coords[k];
                        }
                        scale = Math.max(scale, Math.abs(expected));
                        worst = Math.max(worst, Math.abs(expected - factors[t * P + q]));
                    }
                }
                assertTrue(worst <= 1e-11 * scale, "factors: worst " + worst + " at scale " + scale);
                double err = 0;
                for (int x = 0; x < P; x++) {
                    for (int y = 0; y < P; y++) {
                        double approx = 0;
                        for (int k = 0; k < P; k++) {
                            approx += u[x * P + k] * d[k] * u[y * P + k];
                        }
                        err += (h[x * P + y] - approx) * (h[x * P + y] - approx);
                    }
                }
                errors[variant] = Math.sqrt(err);
            }
        }
        assertTrue(errors[1] < errors[0], "EK-FAC Frobenius error " + errors[1] + " vs K-FAC " + errors[0]);
    }

    @Test
    void badInput() {
        HostModel logistic = new HostModel(Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC), new double[D + 1]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EkfacInfluence(logistic, EkfacOptions.of(0.1, false)));
        assertTrue(e.getMessage().startsWith("model: EK-FAC needs the softmax cross-entropy"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new EkfacOptions(-1, false, EkfacCurvature.FISHER, 8));
        assertTrue(e.getMessage().startsWith("hessianRegularization"), e.getMessage());
        EkfacInfluence unfitted = new EkfacInfluence(new HostModel(spec, theta), EkfacOptions.of(0.1, false));
        try (HostScope scope = HostBackend.scope()) {
            assertThrows(IllegalStateException.class, () -> unfitted.influences(test, train, InfluenceMode.UP, scope));
            // a constant zero feature makes A singular: λ = 0 must be refused with advice
            double[] x = train.x().clone();
            for (int i = 0; i < train.size(); i++) {
                x[i * D + 1] = 0;
            }
            EkfacInfluence singular = new EkfacInfluence(new HostModel(spec, theta),
                    new EkfacOptions(0, false, EkfacCurvature.FISHER, 16))
                    .fit(new InMemoryDataSource(new Batch(x, D, train.y(), 1)));
            InversionException ie = assertThrows(InversionException.class,
                    () -> singular.influenceFactors(test, scope));
            assertTrue(ie.getMessage().contains("raise the Hessian regularization"), ie.getMessage());
            assertEquals(InversionException.Reason.SINGULAR, ie.reason());
            // a duplicated feature leaves a null direction whose eigenvalue is rounding noise (±1e-17),
            // not exactly zero: λ = 0 must still be refused, and the λ the message names must work
            double[] dup = train.x().clone();
            for (int i = 0; i < train.size(); i++) {
                dup[i * D + 1] = dup[i * D];
            }
            Batch duplicated = new Batch(dup, D, train.y(), 1);
            EkfacInfluence nearlySingular = new EkfacInfluence(new HostModel(spec, theta),
                    new EkfacOptions(0, true, EkfacCurvature.FISHER, 16)).fit(new InMemoryDataSource(duplicated));
            InversionException near = assertThrows(InversionException.class,
                    () -> nearlySingular.influenceFactors(test, scope));
            assertEquals(InversionException.Reason.SINGULAR, near.reason());
            double suggested = Double.parseDouble(near.getMessage().replaceAll("(?s).*at least ", ""));
            EkfacInfluence regularized = new EkfacInfluence(new HostModel(spec, theta),
                    new EkfacOptions(suggested, true, EkfacCurvature.FISHER, 16)).fit(new InMemoryDataSource(duplicated));
            regularized.influenceFactors(test, scope).close();
            EkfacInfluence fitted = ekfac(theta, 0.1, false, EkfacCurvature.FISHER);
            e = assertThrows(IllegalArgumentException.class,
                    () -> fitted.exploreHessianRegularization(test, null, new double[0], scope));
            assertTrue(e.getMessage().startsWith("regularizations"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> fitted.influencesFromFactorsByLayer(
                    Map.of(0, scope.zeros(org.influence4j.api.DType.FLOAT64, 2, P + 1)), train, InfluenceMode.UP,
                    scope));
            assertTrue(e.getMessage().startsWith("factors: layer 0"), e.getMessage());
            assertEquals(0, scope.liveTensors() - 1, "failed calls leave only the test's own tensor");
        }
    }

    private static double relError(double[] exact, double[] approx) {
        double num = 0;
        double den = 0;
        for (int k = 0; k < exact.length; k++) {
            num += (exact[k] - approx[k]) * (exact[k] - approx[k]);
            den += exact[k] * exact[k];
        }
        return Math.sqrt(num / den);
    }

    /** The fit and the adapter's self-influence report their tasks and one step per chunk of 16. */
    @Test
    void progressIsReportedTaskByTaskAndStepByStep() {
        RecordingProgress recorder = new RecordingProgress();
        double[] th = theta.clone();
        long chunks = (train.size() + 15) / 16;
        HostModel model = new HostModel(spec, th);
        try (EkfacInfluence ek = new EkfacInfluence(model,
                new EkfacOptions(0.1, true, EkfacCurvature.FISHER, 16).withProgress(recorder))) {
            ek.fit(new InMemoryDataSource(train));
            new InfluenceFunctionAttribution(model, ek, 16, recorder)
                    .selfInfluence(new InMemoryDataSource(train));
        }
        List<String> expected = new java.util.ArrayList<>();
        for (String task : List.of("EK-FAC factors", "EK-FAC eigenvalue refit", "self-influence")) {
            expected.add("started " + task + " " + chunks);
            for (long c = 0; c < chunks; c++) {
                expected.add("step 1");
            }
            expected.add("finished");
        }
        assertEquals(expected, recorder.events());
    }
}
