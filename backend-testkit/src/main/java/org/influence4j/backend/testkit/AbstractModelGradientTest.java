package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Losses, gradients and per-sample gradients against plain-Java references and finite differences.
 * A backend's test extends this class and supplies {@link #backend()}; a backend with per-thread
 * autograd state also overrides {@link #threadState()}.
 */
public abstract class AbstractModelGradientTest {

    private static final Logger LOG = LoggerFactory.getLogger(AbstractModelGradientTest.class);

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    /**
     * The backend's per-thread autograd state (e.g. libtorch's grad mode), which creating a model and
     * computing a gradient and an HVP on a thread must leave as it found it; {@code null} (the
     * default) for a backend without such state, where the check compares {@code null} with itself.
     */
    protected Boolean threadState() {
        return null;
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    public void meanOfPerSampleGradientsIsTheGradientAndEachRowIsThatSamplesGradient(Loss loss) {
        ModelSpec spec = TestSupport.twoHiddenLayers(loss, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 12, 3);
        int p = spec.numParameters();
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 1, 2))) {
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
    @MethodSource("org.influence4j.backend.testkit.TestSupport#activationsAndLosses")
    public void gradientAndLossesMatchPlainJavaReference(Activation act, Loss loss) {
        check(TestSupport.oneHidden(act, loss));
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    public void twoHiddenLayerGradientMatchesFiniteDifferences(Loss loss) {
        check(TestSupport.twoHiddenLayers(loss, DType.FLOAT64));
    }

    private void check(ModelSpec spec) {
        Batch batch = TestSupport.randomBatch(spec, 15, 11);
        double[] theta = TestSupport.parameters(spec, 5, 2);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, theta)) {
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
    public void modelsCreatedAndUsedOnOtherThreadsGiveTheSameNumbersAndRestoreThreadState() throws Exception {
        ModelSpec spec = TestSupport.twoHiddenLayers(Loss.MSE, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 8, 12);
        double[] theta = TestSupport.parameters(spec, 13, 2);
        double[] fd = TestSupport.referenceGradientFd(spec, theta, batch, 1e-5);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.List<java.util.concurrent.Future<double[]>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 2; t++) {
                results.add(pool.submit(() -> {
                    Boolean before = threadState();
                    try (TensorScope scope = backend().newScope();
                         TwiceDifferentiable model = backend().createModel(spec, theta)) {
                        double[] g = model.gradient(batch, scope).toDoubleArray();
                        model.hvp(batch, scope.fromArray(g, DType.FLOAT64, g.length), scope);
                        assertEquals(before, threadState(), "per-thread autograd state restored");
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
    public void float32ModelAgreesWithFloat64Model() {
        ModelSpec spec64 = TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        ModelSpec spec32 = spec64.withDType(DType.FLOAT32);
        Batch batch = TestSupport.randomBatch(spec64, 20, 8);
        double[] theta = TestSupport.parameters(spec64, 4, 2);
        double[] v = TestSupport.randomUnitVector(spec64.numParameters(), 9);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable m64 = backend().createModel(spec64, theta);
             TwiceDifferentiable m32 = backend().createModel(spec32, theta)) {
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

    /**
     * A float32 model gives the same numbers, bit for bit, whether the features are held as floats
     * (as a float32 {@code .npy} file is read) or as the same values in doubles: the upload rounds to
     * the same floats, without a detour through doubles for float storage.
     */
    @Test
    public void float32FeaturesHeldAsFloatsGiveTheSameNumbersAsDoubles() {
        ModelSpec spec = TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32);
        Batch random = TestSupport.randomBatch(spec, 20, 8);
        float[] floats = new HostArray(random.x(), new long[] {random.x().length}, DType.FLOAT64).floats();
        Batch typed = new Batch(HostArray.ofFloats(floats, random.size(), random.numFeatures()), random.y(), 1);
        Batch doubles = new Batch(typed.x(), random.numFeatures(), random.y(), 1);
        assertEquals(HostArray.Storage.FLOAT32, typed.features().storage());
        double[] v = TestSupport.randomUnitVector(spec.numParameters(), 9);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 4, 2))) {
            assertEquals(model.loss(doubles), model.loss(typed));
            assertArrayEquals(model.forward(doubles, scope).toDoubleArray(), model.forward(typed, scope).toDoubleArray());
            assertArrayEquals(model.perSampleGradients(doubles, scope).toDoubleArray(),
                    model.perSampleGradients(typed, scope).toDoubleArray());
            Tensor vt = scope.fromArray(v, DType.FLOAT32, v.length);
            assertArrayEquals(model.hvp(doubles, vt, scope).toDoubleArray(), model.hvp(typed, vt, scope).toDoubleArray());
        }
    }
}
