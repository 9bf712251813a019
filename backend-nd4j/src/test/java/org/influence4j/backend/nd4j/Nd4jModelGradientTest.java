package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Losses, gradients and per-sample gradients against plain-Java references and finite differences. */
class Nd4jModelGradientTest {

    private static final Logger LOG = LoggerFactory.getLogger(Nd4jModelGradientTest.class);

    static ModelSpec twoHiddenLayers(Loss loss, DType dtype) {
        int out = loss == Loss.BINARY_LOGISTIC ? 1 : 3;
        return ModelSpec.builder(5).dense(7).activation(Activation.TANH).dense(6).activation(Activation.SOFTPLUS)
                .dense(out).loss(loss).dtype(dtype).build();
    }

    static Stream<Arguments> activationsAndLosses() {
        return Stream.of(
                Arguments.of(Activation.RELU, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.TANH, Loss.MSE),
                Arguments.of(Activation.SIGMOID, Loss.BINARY_LOGISTIC),
                Arguments.of(Activation.IDENTITY, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.SOFTPLUS, Loss.MSE),
                Arguments.of(Activation.TANH, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.RELU, Loss.BINARY_LOGISTIC));
    }

    static ModelSpec oneHidden(Activation act, Loss loss) {
        return TestSupport.mlp(4, 6, act, loss == Loss.BINARY_LOGISTIC ? 1 : 3, loss, DType.FLOAT64);
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void meanOfPerSampleGradientsIsTheGradientAndEachRowIsThatSamplesGradient(Loss loss) {
        ModelSpec spec = twoHiddenLayers(loss, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 12, 3);
        int p = spec.numParameters();
        try (Nd4jTensorScope scope = TestSupport.backend().newScope();
             TwiceDifferentiable model = TestSupport.backend().createModel(spec, TestSupport.parameters(spec, 1, 2))) {
            Tensor g = model.gradient(batch, scope);
            Tensor rows = model.perSampleGradients(batch, scope);
            assertArrayEquals(new long[] {12, p}, rows.shape());
            double[] all = rows.toDoubleArray();
            double[] mean = new double[p];
            for (int i = 0; i < 12; i++) {
                for (int k = 0; k < p; k++) {
                    mean[k] += all[i * p + k] / 12;
                }
            }
            assertTrue(TestSupport.relErr(mean, g.toDoubleArray()) < 1e-12);
            for (int i = 0; i < 12; i++) {
                double[] single = model.gradient(batch.slice(i, i + 1), scope).toDoubleArray();
                double err = TestSupport.relErr(TestSupport.row(all, p, i), single);
                assertTrue(err < 1e-12, "row " + i + " rel err " + err);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("activationsAndLosses")
    void gradientAndLossesMatchPlainJavaReference(Activation act, Loss loss) {
        check(oneHidden(act, loss));
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    void twoHiddenLayerGradientMatchesFiniteDifferences(Loss loss) {
        check(twoHiddenLayers(loss, DType.FLOAT64));
    }

    private static void check(ModelSpec spec) {
        Batch batch = TestSupport.randomBatch(spec, 15, 11);
        double[] theta = TestSupport.parameters(spec, 5, 2);
        try (Nd4jTensorScope scope = TestSupport.backend().newScope();
             TwiceDifferentiable model = TestSupport.backend().createModel(spec, theta)) {
            double[] refLosses = TestSupport.referencePerSampleLosses(spec, theta, batch);
            assertArrayEquals(refLosses, model.perSampleLosses(batch, scope).toDoubleArray(), 1e-12);
            assertEquals(TestSupport.referenceMeanLoss(spec, theta, batch), model.loss(batch), 1e-12);
            double[] f = model.forward(batch, scope).toDoubleArray();
            int k = spec.outputDim();
            for (int i = 0; i < batch.size(); i++) {
                double[] x = TestSupport.row(batch.x(), spec.inputDim(), i);
                assertArrayEquals(TestSupport.referenceOutput(spec, theta, x), TestSupport.row(f, k, i), 1e-12);
            }
            double[] fd = TestSupport.referenceGradientFd(spec, theta, batch, 1e-5);
            double err = TestSupport.relErr(model.gradient(batch, scope).toDoubleArray(), fd);
            LOG.debug("{}: gradient vs finite differences rel err {}", spec.toJson(), err);
            assertTrue(err < 1e-7, "gradient rel err " + err);
        }
    }

    @Test
    void modelsCreatedAndUsedOnOtherThreadsGiveTheSameNumbers() throws Exception {
        ModelSpec spec = twoHiddenLayers(Loss.MSE, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 8, 12);
        double[] theta = TestSupport.parameters(spec, 13, 2);
        double[] fd = TestSupport.referenceGradientFd(spec, theta, batch, 1e-5);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.List<java.util.concurrent.Future<double[]>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                results.add(pool.submit(() -> {
                    try (Nd4jTensorScope scope = TestSupport.backend().newScope();
                         TwiceDifferentiable model = TestSupport.backend().createModel(spec, theta)) {
                        double[] g = model.gradient(batch, scope).toDoubleArray();
                        model.hvp(batch, scope.fromArray(g, DType.FLOAT64, g.length), scope);
                        return g;
                    }
                }));
            }
            for (java.util.concurrent.Future<double[]> f : results) {
                assertTrue(TestSupport.relErr(f.get(), fd) < 1e-7);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void float32ModelAgreesWithFloat64Model() {
        ModelSpec spec64 = twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        ModelSpec spec32 = spec64.withDType(DType.FLOAT32);
        Batch batch = TestSupport.randomBatch(spec64, 20, 8);
        double[] theta = TestSupport.parameters(spec64, 4, 2);
        double[] v = TestSupport.randomUnitVector(spec64.numParameters(), 9);
        try (Nd4jTensorScope scope = TestSupport.backend().newScope();
             TwiceDifferentiable m64 = TestSupport.backend().createModel(spec64, theta);
             TwiceDifferentiable m32 = TestSupport.backend().createModel(spec32, theta)) {
            assertEquals(m64.loss(batch), m32.loss(batch), 1e-4 * Math.abs(m64.loss(batch)));
            Tensor g32 = m32.gradient(batch, scope);
            assertEquals(DType.FLOAT32, g32.dtype());
            assertTrue(TestSupport.relErr(g32.toDoubleArray(), m64.gradient(batch, scope).toDoubleArray()) < 1e-4);
            assertTrue(TestSupport.relErr(m32.perSampleGradients(batch, scope).toDoubleArray(),
                    m64.perSampleGradients(batch, scope).toDoubleArray()) < 1e-4);
            Tensor v64 = scope.fromArray(v, DType.FLOAT64, v.length);
            Tensor hv32 = m32.hvp(batch, v64, scope);
            assertEquals(DType.FLOAT32, hv32.dtype());
            double err = TestSupport.relErr(hv32.toDoubleArray(), m64.hvp(batch, v64, scope).toDoubleArray());
            LOG.info("float32 vs float64 HVP rel err {}", err);
            assertTrue(err < 1e-4, "hvp rel err " + err);
        }
    }
}
