package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;

/**
 * One-Dense-layer models whose gradient and Hessian have closed forms, computed here in plain Java.
 * Parameter order: W {@code [K,d]} row-major then b {@code [K]}; with x̃ = (x, 1) the parameter of
 * output k and input j (j = d is the bias) has flat index {@code j < d ? k*d + j : K*d + k}.
 */
public abstract class AbstractModelClosedFormTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    @Test
    public void logisticRegressionGradientAndHessianEqualTheClosedForm() {
        int n = 40;
        int d = 4;
        ModelSpec spec = ModelSpec.builder(d).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, n, 21);
        double[] theta = TestSupport.parameters(spec, 2, 3);
        double[][] xt = augmented(batch);
        // p_i = σ(x̃_i · θ), g = X̃ᵀ(p − y)/n, H = X̃ᵀ diag(p(1−p)) X̃ / n
        double[] g = new double[d + 1];
        double[] h = new double[(d + 1) * (d + 1)];
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int j = 0; j <= d; j++) {
                z += xt[i][j] * theta[j];
            }
            double prob = 1 / (1 + Math.exp(-z));
            for (int j = 0; j <= d; j++) {
                g[j] += xt[i][j] * (prob - batch.y()[i]) / n;
                for (int l = 0; l <= d; l++) {
                    h[j * (d + 1) + l] += xt[i][j] * prob * (1 - prob) * xt[i][l] / n;
                }
            }
        }
        compare(spec, theta, batch, g, h);
    }

    @Test
    public void linearMseGradientAndHessianEqualTheClosedForm() {
        int n = 25;
        int d = 3;
        int kk = 2;
        ModelSpec spec = ModelSpec.builder(d).dense(kk).loss(Loss.MSE).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, n, 4);
        double[] theta = TestSupport.parameters(spec, 3, 1);
        double[][] xt = augmented(batch);
        int p = spec.numParameters();
        // ℓ = (1/K) Σ_k (f_k − y_k)²: ∂ℓ/∂f_k = 2 r_k / K, ∂²ℓ/∂f_k∂f_k' = 2 δ_kk' / K
        double[] g = new double[p];
        double[] h = new double[p * p];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < kk; k++) {
                double f = 0;
                for (int j = 0; j <= d; j++) {
                    f += theta[index(k, j, d, kk)] * xt[i][j];
                }
                double r = f - batch.y()[i * kk + k];
                for (int j = 0; j <= d; j++) {
                    g[index(k, j, d, kk)] += 2 * r / kk * xt[i][j] / n;
                    for (int l = 0; l <= d; l++) {
                        h[index(k, j, d, kk) * p + index(k, l, d, kk)] += 2.0 / kk * xt[i][j] * xt[i][l] / n;
                    }
                }
            }
        }
        compare(spec, theta, batch, g, h);
    }

    @Test
    public void softmaxRegressionGradientAndHessianEqualTheClosedForm() {
        int n = 30;
        int d = 4;
        int kk = 3;
        ModelSpec spec = ModelSpec.builder(d).dense(kk).loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, n, 6);
        double[] theta = TestSupport.parameters(spec, 8, 3);
        double[][] xt = augmented(batch);
        int p = spec.numParameters();
        // s = softmax(f): ∂ℓ/∂f = s − e_y, ∂²ℓ/∂f∂f = diag(s) − s sᵀ
        double[] g = new double[p];
        double[] h = new double[p * p];
        for (int i = 0; i < n; i++) {
            double[] f = new double[kk];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < kk; k++) {
                for (int j = 0; j <= d; j++) {
                    f[k] += theta[index(k, j, d, kk)] * xt[i][j];
                }
                max = Math.max(max, f[k]);
            }
            double sum = 0;
            double[] s = new double[kk];
            for (int k = 0; k < kk; k++) {
                s[k] = Math.exp(f[k] - max);
                sum += s[k];
            }
            for (int k = 0; k < kk; k++) {
                s[k] /= sum;
            }
            int label = (int) batch.y()[i];
            for (int k = 0; k < kk; k++) {
                double r = s[k] - (k == label ? 1 : 0);
                for (int j = 0; j <= d; j++) {
                    g[index(k, j, d, kk)] += r * xt[i][j] / n;
                    for (int k2 = 0; k2 < kk; k2++) {
                        double a = (k == k2 ? s[k] : 0) - s[k] * s[k2];
                        for (int l = 0; l <= d; l++) {
                            h[index(k, j, d, kk) * p + index(k2, l, d, kk)] += a * xt[i][j] * xt[i][l] / n;
                        }
                    }
                }
            }
        }
        compare(spec, theta, batch, g, h);
    }

    private void compare(ModelSpec spec, double[] theta, Batch batch, double[] g, double[] h) {
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, theta)) {
            assertArrayEquals(g, model.gradient(batch, scope).toDoubleArray(), 1e-10, "gradient");
            double[] hess = model.hessian(batch, scope).toDoubleArray();
            assertArrayEquals(h, hess, 1e-10, "hessian");
            double maxAbs = 0;
            for (double v : h) {
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            assertTrue(maxAbs > 1e-3, "the test problem has a non-trivial Hessian");
        }
    }

    private static int index(int k, int j, int d, int outputs) {
        return j < d ? k * d + j : outputs * d + k;
    }

    private static double[][] augmented(Batch batch) {
        int d = batch.numFeatures();
        double[][] xt = new double[batch.size()][d + 1];
        for (int i = 0; i < batch.size(); i++) {
            System.arraycopy(batch.x(), i * d, xt[i], 0, d);
            xt[i][d] = 1;
        }
        return xt;
    }
}
