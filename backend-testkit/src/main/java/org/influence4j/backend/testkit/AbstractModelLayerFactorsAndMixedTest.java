package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Per-layer gradient factors and mixed derivatives ∇x⟨v, ∇θℓ_i⟩. */
public abstract class AbstractModelLayerFactorsAndMixedTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    @ParameterizedTest
    @EnumSource(Loss.class)
    public void layerFactorsReproducePerSampleGradients(Loss loss) {
        ModelSpec spec = TestSupport.twoHiddenLayers(loss, DType.FLOAT64);
        int n = 7;
        Batch batch = TestSupport.randomBatch(spec, n, 17);
        int p = spec.numParameters();
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 18, 2))) {
            double[] rows = model.perSampleGradients(batch, scope).toDoubleArray();
            List<DenseLayerFactors> factors = model.denseLayerFactors(batch, scope);
            List<ParameterInfo> layout = spec.parameterLayout();
            assertEquals(3, factors.size());
            assertArrayEquals(batch.x(), factors.get(0).inputs().toDoubleArray(), 0, "first layer input is x");
            for (int l = 0; l < factors.size(); l++) {
                DenseLayerFactors f = factors.get(l);
                ParameterInfo w = layout.get(2 * l);
                assertEquals(w.layerIndex(), f.layerIndex());
                assertEquals(w.offset(), f.parameterOffset());
                int out = (int) w.shape()[0];
                int in = (int) w.shape()[1];
                assertArrayEquals(new long[] {n, in}, f.inputs().shape());
                assertArrayEquals(new long[] {n, out}, f.outputGradients().shape());
                double[] a = f.inputs().toDoubleArray();
                double[] delta = f.outputGradients().toDoubleArray();
                for (int i = 0; i < n; i++) {
                    for (int o = 0; o < out; o++) {
                        for (int j = 0; j < in; j++) {
                            assertEquals(rows[i * p + w.offset() + o * in + j], delta[i * out + o] * a[i * in + j],
                                    1e-14, "weight gradient of layer " + l);
                        }
                        assertEquals(rows[i * p + w.offset() + out * in + o], delta[i * out + o], 1e-14);
                    }
                }
            }
        }
    }

    /**
     * Fisher factors equal those of the batch repeated once per class with every copy labelled by its
     * class, the output gradients of sample i under label c times {@code √p_c(x_i)} (the softmax of the
     * model's logits, here in double precision): inputs from the first copy, output gradients of every
     * copy (float64, 1e-13); the last layer's are {@code √p_ic (p_i − e_c)} in closed form. Bad class
     * ranges and losses are refused.
     */
    @Test
    public void fisherFactorsAreThoseOfTheRepeatedBatchWeightedByTheRootProbabilities() {
        ModelSpec spec = TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        int n = 6;
        int c = spec.outputDim();
        Batch batch = TestSupport.randomBatch(spec, n, 23);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 24, 2))) {
            double[] p = TestSupport.softmaxRows(model.forward(batch, scope).toDoubleArray(), c);
            int from = 1;
            int to = c;
            int copies = to - from;
            double[] labels = new double[copies * n];
            for (int k = 0; k < copies; k++) {
                java.util.Arrays.fill(labels, k * n, (k + 1) * n, from + k);
            }
            Batch repeated = new Batch(batch.features().repeat(copies), labels, 1);
            List<LayerGradientFactors> expected = model.layerGradientFactors(repeated, scope);
            List<LayerGradientFactors> actual = model.fisherLayerGradientFactors(batch, from, to, scope);
            assertEquals(expected.size(), actual.size());
            for (int l = 0; l < actual.size(); l++) {
                LayerGradientFactors e = expected.get(l);
                LayerGradientFactors a = actual.get(l);
                assertEquals(e.layerIndex(), a.layerIndex());
                assertEquals(e.parameterOffset(), a.parameterOffset());
                assertArrayEquals(new long[] {n, e.inFeatures()}, a.inputs().shape());
                assertArrayEquals(java.util.Arrays.copyOf(e.inputs().toDoubleArray(), n * e.inFeatures()),
                        a.inputs().toDoubleArray(), 1e-13, "inputs of layer " + l);
                double[] weighted = e.outputGradients().toDoubleArray();
                int out = e.outFeatures();
                for (int r = 0; r < copies * n; r++) {
                    for (int o = 0; o < out; o++) {
                        weighted[r * out + o] *= Math.sqrt(p[(r % n) * c + from + r / n]);
                    }
                }
                assertArrayEquals(weighted, a.outputGradients().toDoubleArray(), 1e-13,
                        "output gradients of layer " + l);
            }
            double[] last = actual.get(actual.size() - 1).outputGradients().toDoubleArray();
            for (int k = 0; k < copies; k++) {
                for (int i = 0; i < n; i++) {
                    double root = Math.sqrt(p[i * c + from + k]);
                    for (int j = 0; j < c; j++) {
                        assertEquals(root * (p[i * c + j] - (j == from + k ? 1 : 0)), last[(k * n + i) * c + j], 1e-13);
                    }
                }
            }
            assertThrows(IllegalArgumentException.class, () -> model.fisherLayerGradientFactors(batch, 2, 2, scope));
            assertThrows(IllegalArgumentException.class, () -> model.fisherLayerGradientFactors(batch, 0, c + 1,
                    scope));
        }
        ModelSpec mse = TestSupport.twoHiddenLayers(Loss.MSE, DType.FLOAT64);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(mse, TestSupport.parameters(mse, 24, 2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.fisherLayerGradientFactors(TestSupport.randomBatch(mse, 3, 1), 0, 1, scope));
            assertTrue(e.getMessage().startsWith("loss:"), e.getMessage());
        }
    }

    /**
     * The pooled factors ({@link TwiceDifferentiable#pooledFisherLayerGradientFactors}) of a small
     * batch and of a wide one (8,192 features × 40 samples: one class per call of the default's class
     * groups) equal {@code Σ_c √p_ic δ_ic} formed from one plain call per label (float64, 1e-12).
     */
    @Test
    public void pooledFisherFactorsSumTheRootProbabilityWeightedOutputGradientsOfAllClasses() {
        assertPooledFactors(TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64), 6);
        ModelSpec wide = TestSupport.mlp(8192, 4, Activation.TANH, 3, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(wide, 40, 29);
        assertEquals(1, LayerGradientFactors.classGroup(batch, wide.outputDim()), "one class per group");
        assertPooledFactors(wide, 40);
        ModelSpec mse = TestSupport.twoHiddenLayers(Loss.MSE, DType.FLOAT64);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(mse, TestSupport.parameters(mse, 24, 2))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.pooledFisherLayerGradientFactors(TestSupport.randomBatch(mse, 3, 1), scope));
            assertTrue(e.getMessage().startsWith("loss:"), e.getMessage());
        }
    }

    private void assertPooledFactors(ModelSpec spec, int n) {
        int c = spec.outputDim();
        Batch batch = TestSupport.randomBatch(spec, n, 29);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 24, 2))) {
            double[] p = TestSupport.softmaxRows(model.forward(batch, scope).toDoubleArray(), c);
            List<LayerGradientFactors> actual = model.pooledFisherLayerGradientFactors(batch, scope);
            List<LayerGradientFactors> plain = model.layerGradientFactors(batch, scope);
            assertEquals(plain.size(), actual.size());
            double[][] expected = new double[actual.size()][];
            for (int k = 0; k < c; k++) {
                double[] labels = new double[n];
                java.util.Arrays.fill(labels, k);
                List<LayerGradientFactors> under = model.layerGradientFactors(
                        new Batch(batch.features(), labels, 1), scope);
                for (int l = 0; l < actual.size(); l++) {
                    double[] d = under.get(l).outputGradients().toDoubleArray();
                    int out = under.get(l).outFeatures();
                    expected[l] = expected[l] == null ? new double[d.length] : expected[l];
                    for (int r = 0; r < d.length; r++) {
                        expected[l][r] += Math.sqrt(p[(r / out) * c + k]) * d[r];
                    }
                }
            }
            for (int l = 0; l < actual.size(); l++) {
                LayerGradientFactors a = actual.get(l);
                assertEquals(plain.get(l).layerIndex(), a.layerIndex());
                assertArrayEquals(new long[] {n, a.outFeatures()}, a.outputGradients().shape());
                assertArrayEquals(plain.get(l).inputs().toDoubleArray(), a.inputs().toDoubleArray(), 1e-13,
                        "inputs of layer " + l);
                assertArrayEquals(expected[l], a.outputGradients().toDoubleArray(), 1e-12,
                        "output gradients of layer " + l);
            }
        }
    }

    @Test
    public void mixedDerivativesOfLogisticRegressionEqualTheClosedForm() {
        int d = 3;
        int n = 12;
        ModelSpec spec = ModelSpec.builder(d).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, n, 41);
        double[] theta = TestSupport.parameters(spec, 42, 3);
        double[][] vs = {TestSupport.randomUnitVector(d + 1, 43), TestSupport.randomUnitVector(d + 1, 44)};
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, theta)) {
            double[] flat = new double[2 * (d + 1)];
            System.arraycopy(vs[0], 0, flat, 0, d + 1);
            System.arraycopy(vs[1], 0, flat, d + 1, d + 1);
            Tensor out = model.mixedGradientProducts(batch, scope.fromArray(flat, DType.FLOAT64, 2, d + 1), scope);
            assertArrayEquals(new long[] {2, n, d}, out.shape());
            double[] got = out.toDoubleArray();
            // ⟨v, ∇θℓ_i⟩ = (p_i − y_i)(v_w·x_i + v_b); its x-gradient is p(1−p)(v_w·x_i + v_b) w + (p − y) v_w
            for (int r = 0; r < 2; r++) {
                double[] v = vs[r];
                for (int i = 0; i < n; i++) {
                    double z = theta[d];
                    double vx = v[d];
                    for (int j = 0; j < d; j++) {
                        z += theta[j] * batch.x()[i * d + j];
                        vx += v[j] * batch.x()[i * d + j];
                    }
                    double prob = 1 / (1 + Math.exp(-z));
                    for (int j = 0; j < d; j++) {
                        double expected = prob * (1 - prob) * vx * theta[j] + (prob - batch.y()[i]) * v[j];
                        assertEquals(expected, got[(r * n + i) * d + j], 1e-13, "r=" + r + " i=" + i + " j=" + j);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    public void mixedDerivativesMatchFiniteDifferencesOfPerSampleGradients(Loss loss) {
        ModelSpec spec = TestSupport.twoHiddenLayers(loss, DType.FLOAT64);
        int n = 5;
        int d = spec.inputDim();
        Batch batch = TestSupport.randomBatch(spec, n, 61);
        int p = spec.numParameters();
        double[] v = TestSupport.randomUnitVector(p, 62);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 63, 2))) {
            double[] got = model.mixedGradientProducts(batch, scope.fromArray(v, DType.FLOAT64, 1, p), scope)
                    .toDoubleArray();
            double[] fd = new double[n * d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    double h = 1e-3;
                    double d1 = difference(model, batch, v, i, j, h, scope);
                    double d2 = difference(model, batch, v, i, j, h / 2, scope);
                    fd[i * d + j] = (4 * d2 - d1) / 3;
                }
            }
            double err = TestSupport.relErr(got, fd);
            assertTrue(err < 1e-6, "mixed derivative rel err " + err);
        }
    }

    /** Central difference in x[i][j] of ⟨v, ∇θℓ_i⟩ (per-sample gradients verified elsewhere). */
    private static double difference(TwiceDifferentiable model, Batch batch, double[] v, int i, int j, double h,
                                     TensorScope scope) {
        int d = batch.numFeatures();
        int p = v.length;
        double[] values = new double[2];
        for (int s = 0; s < 2; s++) {
            double[] x = batch.x().clone();
            x[i * d + j] += s == 0 ? h : -h;
            double[] rows = model.perSampleGradients(new Batch(x, d, batch.y(), batch.labelWidth()), scope)
                    .toDoubleArray();
            double dot = 0;
            for (int k = 0; k < p; k++) {
                dot += v[k] * rows[i * p + k];
            }
            values[s] = dot;
        }
        return (values[0] - values[1]) / (2 * h);
    }

    @Test
    public void mixedDerivativesValidateTheirVectors() {
        ModelSpec spec = TestSupport.twoHiddenLayers(Loss.MSE, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 3, 1);
        int p = spec.numParameters();
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, spec.initialParameters(1))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.mixedGradientProducts(batch, scope.zeros(DType.FLOAT64, p), scope));
            assertTrue(e.getMessage().contains("vs") && e.getMessage().contains("[k, " + p + "]"), e.getMessage());
            assertArrayEquals(new long[] {0, 3, 5},
                    model.mixedGradientProducts(batch, scope.zeros(DType.FLOAT64, 0, p), scope).shape());
        }
    }
}
