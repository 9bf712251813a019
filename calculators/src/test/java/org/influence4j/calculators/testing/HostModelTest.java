package org.influence4j.calculators.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The reference backend itself, checked against central finite differences. */
class HostModelTest {

    private static Batch data(Loss loss) {
        return switch (loss) {
            case MSE -> Fixtures.regressionData(13, 3, 2, 5);
            case BINARY_LOGISTIC -> Fixtures.logisticData(13, 3, 5);
            case SOFTMAX_CROSS_ENTROPY -> Fixtures.softmaxData(13, 3, 3, 5);
        };
    }

    private static ModelSpec spec(Loss loss) {
        int out = switch (loss) {
            case MSE -> 2;
            case BINARY_LOGISTIC -> 1;
            case SOFTMAX_CROSS_ENTROPY -> 3;
        };
        return Fixtures.dense(3, out, loss);
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void derivativesMatchFiniteDifferences(Loss loss) {
        ModelSpec spec = spec(loss);
        Batch batch = data(loss);
        int p = spec.numParameters();
        double[] theta = Fixtures.parameters(p, 11);
        HostModel model = new HostModel(spec, theta);
        double[] v = Fixtures.parameters(p, 12);
        double h = 1e-5;
        try (TensorScope scope = HostBackend.rootScope()) {
            double[] g = model.gradient(batch, scope).toDoubleArray();
            Tensor vt = scope.fromArray(v, spec.dtype(), p);
            double[] hv = model.hvp(batch, vt, scope).toDoubleArray();
            double[] hm = model.hessian(batch, scope).toDoubleArray();
            double[] per = model.perSampleGradients(batch, scope).toDoubleArray();
            for (int q = 0; q < p; q++) {
                double[] plus = theta.clone();
                double[] minus = theta.clone();
                plus[q] += h;
                minus[q] -= h;
                model.setParameters(plus);
                double lp = model.loss(batch);
                model.setParameters(minus);
                double lm = model.loss(batch);
                assertEquals((lp - lm) / (2 * h), g[q], 1e-8, "gradient " + q);
                double mean = 0;
                for (int i = 0; i < batch.size(); i++) {
                    mean += per[i * p + q] / batch.size();
                }
                assertEquals(g[q], mean, 1e-14, "per-sample mean " + q);
            }
            double[] plus = theta.clone();
            double[] minus = theta.clone();
            for (int q = 0; q < p; q++) {
                plus[q] += h * v[q];
                minus[q] -= h * v[q];
            }
            model.setParameters(plus);
            double[] gp = model.gradient(batch, scope).toDoubleArray();
            model.setParameters(minus);
            double[] gm = model.gradient(batch, scope).toDoubleArray();
            for (int q = 0; q < p; q++) {
                assertEquals((gp[q] - gm[q]) / (2 * h), hv[q], 1e-8, "hvp " + q);
                double hvq = 0;
                for (int j = 0; j < p; j++) {
                    hvq += hm[q * p + j] * v[j];
                    assertEquals(hm[q * p + j], hm[j * p + q], 1e-15, "symmetry");
                }
                assertEquals(hv[q], hvq, 1e-13, "hessian · v " + q);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void scopeFreesTensors(Loss loss) {
        ModelSpec spec = spec(loss);
        HostModel model = new HostModel(spec, Fixtures.parameters(spec.numParameters(), 1));
        HostScope root = HostBackend.scope();
        try (HostScope child = root.newChild()) {
            model.perSampleGradients(data(loss), child);
            assertEquals(1, root.liveTensors());
        }
        assertEquals(0, root.liveTensors());
        assertTrue(root.liveTensors() == 0);
        root.close();
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void layerFactorsGiveThePerSampleGradients(Loss loss) {
        ModelSpec spec = spec(loss);
        Batch batch = data(loss);
        int p = spec.numParameters();
        int d = 3;
        int c = p / (d + 1);
        HostModel model = new HostModel(spec, Fixtures.parameters(p, 21));
        try (TensorScope scope = HostBackend.rootScope()) {
            double[] per = model.perSampleGradients(batch, scope).toDoubleArray();
            java.util.List<org.influence4j.api.DenseLayerFactors> f = model.denseLayerFactors(batch, scope);
            assertEquals(1, f.size());
            double[] a = f.get(0).inputs().toDoubleArray();
            double[] delta = f.get(0).outputGradients().toDoubleArray();
            for (int i = 0; i < batch.size(); i++) {
                for (int k = 0; k < c; k++) {
                    for (int j = 0; j < d; j++) {
                        assertEquals(per[i * p + k * d + j], delta[i * c + k] * a[i * d + j], 1e-14);
                    }
                    assertEquals(per[i * p + c * d + k], delta[i * c + k], 1e-14);
                }
            }
        }
    }

    /** ∇x⟨v, ∇θℓ_i⟩ against central differences of the per-sample gradients in x. */
    @ParameterizedTest
    @EnumSource(Loss.class)
    void mixedGradientProductsMatchFiniteDifferences(Loss loss) {
        ModelSpec spec = spec(loss);
        Batch batch = data(loss);
        int p = spec.numParameters();
        int d = 3;
        int n = batch.size();
        HostModel model = new HostModel(spec, Fixtures.parameters(p, 22));
        double[] v = new double[2 * p];
        System.arraycopy(Fixtures.parameters(p, 23), 0, v, 0, p);
        System.arraycopy(Fixtures.parameters(p, 24), 0, v, p, p);
        double h = 1e-5;
        try (TensorScope scope = HostBackend.rootScope()) {
            double[] mixed = model.mixedGradientProducts(batch, scope.fromArray(v, spec.dtype(), 2, p), scope)
                    .toDoubleArray();
            assertEquals(2 * n * d, mixed.length);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    double[] xp = batch.x().clone();
                    double[] xm = batch.x().clone();
                    xp[i * d + j] += h;
                    xm[i * d + j] -= h;
                    double[] gp = model.perSampleGradients(new Batch(xp, d, batch.y(), batch.labelWidth()), scope)
                            .toDoubleArray();
                    double[] gm = model.perSampleGradients(new Batch(xm, d, batch.y(), batch.labelWidth()), scope)
                            .toDoubleArray();
                    for (int row = 0; row < 2; row++) {
                        double fd = 0;
                        for (int q = 0; q < p; q++) {
                            fd += v[row * p + q] * (gp[i * p + q] - gm[i * p + q]) / (2 * h);
                        }
                        assertEquals(fd, mixed[(row * n + i) * d + j], 1e-7, "row " + row + " sample " + i + " x" + j);
                    }
                }
            }
        }
    }
}
