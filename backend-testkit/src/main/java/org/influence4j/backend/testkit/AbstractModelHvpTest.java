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
 * Exact Hessian-vector products against Richardson-extrapolated central differences of the
 * gradient (itself checked against finite differences of a plain-Java loss in
 * {@link AbstractModelGradientTest}), and block / full-Hessian consistency.
 */
public abstract class AbstractModelHvpTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    private static final Logger LOG = LoggerFactory.getLogger(AbstractModelHvpTest.class);

    /** (4 D(h/2) − D(h)) / 3 with D(h) = (g(θ + h v) − g(θ − h v)) / 2h: error O(h⁴). */
    private static double[] fdHvp(TwiceDifferentiable model, Batch batch, double[] theta, double[] v, double h,
                                  TensorScope scope) {
        double[] d1 = centralDifference(model, batch, theta, v, h, scope);
        double[] d2 = centralDifference(model, batch, theta, v, h / 2, scope);
        double[] out = new double[theta.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (4 * d2[i] - d1[i]) / 3;
        }
        model.setParameters(theta);
        return out;
    }

    private static double[] centralDifference(TwiceDifferentiable model, Batch batch, double[] theta, double[] v,
                                              double h, TensorScope scope) {
        model.setParameters(TestSupport.axpy(h, v, theta));
        double[] up = model.gradient(batch, scope).toDoubleArray();
        model.setParameters(TestSupport.axpy(-h, v, theta));
        double[] down = model.gradient(batch, scope).toDoubleArray();
        double[] out = new double[theta.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (up[i] - down[i]) / (2 * h);
        }
        return out;
    }

    private void checkAgainstFiniteDifferences(ModelSpec spec, int directions, long seed) {
        Batch batch = TestSupport.randomBatch(spec, 16, seed);
        double[] theta = TestSupport.parameters(spec, seed + 1, 2);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, theta)) {
            for (int r = 0; r < directions; r++) {
                double[] v = TestSupport.randomUnitVector(theta.length, seed * 31 + r);
                Tensor vt = scope.fromArray(v, DType.FLOAT64, v.length);
                double[] hv = model.hvp(batch, vt, scope).toDoubleArray();
                double[] fd = fdHvp(model, batch, theta, v, 1e-3, scope);
                double err = TestSupport.relErr(hv, fd);
                LOG.debug("{}: HVP vs finite differences rel err {}", spec.toJson(), err);
                assertTrue(TestSupport.norm(fd) > 1e-3, "non-trivial curvature");
                if (err >= 1e-6) {
                    double[] again = model.hvp(batch, vt, scope).toDoubleArray();
                    double[] fdAgain = fdHvp(model, batch, theta, v, 1e-3, scope);
                    throw new AssertionError("HVP rel err " + err + " for " + spec.toJson() + ": |hv|="
                            + TestSupport.norm(hv) + " |fd|=" + TestSupport.norm(fd) + "; repeated: |hv|="
                            + TestSupport.norm(again) + " |fd|=" + TestSupport.norm(fdAgain) + " rel err "
                            + TestSupport.relErr(again, fdAgain));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Loss.class)
    public void hvpOfTwoHiddenLayerMlpMatchesFiniteDifferences(Loss loss) {
        checkAgainstFiniteDifferences(TestSupport.twoHiddenLayers(loss, DType.FLOAT64), 3, 40);
    }

    @ParameterizedTest
    @MethodSource("org.influence4j.backend.testkit.TestSupport#activationsAndLosses")
    public void hvpPerActivationMatchesFiniteDifferences(Activation act, Loss loss) {
        checkAgainstFiniteDifferences(TestSupport.oneHidden(act, loss), 2, 50 + act.ordinal());
    }

    @Test
    public void hvpBlockEqualsSingleHvps() {
        ModelSpec spec = TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT64);
        Batch batch = TestSupport.randomBatch(spec, 10, 2);
        int p = spec.numParameters();
        int k = 5;
        double[] vs = new double[k * p];
        for (int r = 0; r < k; r++) {
            System.arraycopy(TestSupport.randomUnitVector(p, 100 + r), 0, vs, r * p, p);
        }
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 3, 2))) {
            Tensor block = model.hvpBlock(batch, scope.fromArray(vs, DType.FLOAT64, k, p), scope);
            assertArrayEquals(new long[] {k, p}, block.shape());
            double[] all = block.toDoubleArray();
            for (int r = 0; r < k; r++) {
                double[] single = model.hvp(batch, scope.fromArray(TestSupport.row(vs, p, r), DType.FLOAT64, p), scope)
                        .toDoubleArray();
                assertTrue(TestSupport.relErr(TestSupport.row(all, p, r), single) < 1e-12, "row " + r);
            }
            assertArrayEquals(new long[] {0, p}, model.hvpBlock(batch, scope.zeros(DType.FLOAT64, 0, p), scope).shape());
        }
    }

    @Test
    public void hessianIsSymmetricAndEqualsHvpsOfUnitVectors() {
        ModelSpec spec = ModelSpec.builder(3).dense(4).activation(Activation.TANH).dense(3)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, 9, 5);
        int p = spec.numParameters();
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 6, 2))) {
            Tensor hess = model.hessian(batch, scope);
            assertArrayEquals(new long[] {p, p}, hess.shape());
            double[] h = hess.toDoubleArray();
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    assertEquals(h[i * p + j], h[j * p + i], 0.0, "H[" + i + "," + j + "]");
                }
            }
            for (int i = 0; i < p; i++) {
                double[] e = new double[p];
                e[i] = 1;
                double[] col = model.hvp(batch, scope.fromArray(e, DType.FLOAT64, p), scope).toDoubleArray();
                assertArrayEquals(col, TestSupport.row(h, p, i), 1e-13, "row " + i);
            }
        }
    }
}
