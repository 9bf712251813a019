package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TensorFlow backend against the PyTorch backend in the same JVM: the same spec, weights and data
 * must give the same loss, per-sample losses, outputs, gradient, per-sample gradients, HVP, block HVP,
 * dense-layer factors and mixed products, within a relative difference ‖tf − pt‖ / ‖pt‖ of 1e-9 in
 * float64 and 1e-4 in float32. Models: logistic regression, and a 2-hidden-layer MLP with each
 * activation (each loss is used by at least one of them).
 */
class TfPyTorchParityTest {

    private static final Logger LOG = LoggerFactory.getLogger(TfPyTorchParityTest.class);

    static Stream<Arguments> specs() {
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : DType.values()) {
            out.add(Arguments.of(ModelSpec.builder(6).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(dtype).build()));
            for (Activation act : Activation.values()) {
                if (act == Activation.GELU) {
                    continue; // a layer-graph activation (format 2)
                }
                // every loss is paired with several activations: relu/identity -> CE, tanh/softplus -> MSE, sigmoid -> BCE
                Loss loss = switch (act) {
                    case RELU, IDENTITY -> Loss.SOFTMAX_CROSS_ENTROPY;
                    case TANH, SOFTPLUS -> Loss.MSE;
                    case SIGMOID -> Loss.BINARY_LOGISTIC;
                    case GELU -> throw new IllegalStateException("skipped above");
                };
                out.add(Arguments.of(ModelSpec.builder(5).dense(8).activation(act).dense(6).activation(act)
                        .dense(loss == Loss.BINARY_LOGISTIC ? 1 : 3).loss(loss).dtype(dtype).build()));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("specs")
    void tensorFlowAgreesWithPyTorch(ModelSpec spec) {
        double tol = spec.dtype() == DType.FLOAT64 ? 1e-9 : 1e-4;
        Batch batch = TestSupport.randomBatch(spec, 24, 5);
        double[] theta = TestSupport.parameters(spec, 6, 2);
        int p = spec.numParameters();
        int k = 3;
        double[] vs = new double[k * p];
        for (int r = 0; r < k; r++) {
            System.arraycopy(TestSupport.randomUnitVector(p, 60 + r), 0, vs, r * p, p);
        }
        Backend tf = TfBackendProvider.backend();
        Backend pt = PtBackendProvider.backend();
        try (TensorScope ts = tf.newScope(); TensorScope ps = pt.newScope();
             TwiceDifferentiable tm = tf.createModel(spec, theta); TwiceDifferentiable pm = pt.createModel(spec, theta)) {
            String name = spec.toJson();
            double lt = tm.loss(batch);
            double lp = pm.loss(batch);
            worst = Math.abs(lt - lp) / Math.abs(lp);
            assertTrue(Math.abs(lt - lp) <= tol * Math.abs(lp), name + ": loss " + lt + " vs " + lp);
            check(name, "perSampleLosses", tm.perSampleLosses(batch, ts), pm.perSampleLosses(batch, ps), tol);
            check(name, "forward", tm.forward(batch, ts), pm.forward(batch, ps), tol);
            check(name, "gradient", tm.gradient(batch, ts), pm.gradient(batch, ps), tol);
            check(name, "perSampleGradients", tm.perSampleGradients(batch, ts), pm.perSampleGradients(batch, ps), tol);
            Tensor vt = ts.fromArray(TestSupport.row(vs, p, 0), spec.dtype(), p);
            Tensor vp = ps.fromArray(TestSupport.row(vs, p, 0), spec.dtype(), p);
            check(name, "hvp", tm.hvp(batch, vt, ts), pm.hvp(batch, vp, ps), tol);
            Tensor bt = ts.fromArray(vs, spec.dtype(), k, p);
            Tensor bp = ps.fromArray(vs, spec.dtype(), k, p);
            check(name, "hvpBlock", tm.hvpBlock(batch, bt, ts), pm.hvpBlock(batch, bp, ps), tol);
            check(name, "mixedGradientProducts", tm.mixedGradientProducts(batch, bt, ts),
                    pm.mixedGradientProducts(batch, bp, ps), tol);
            List<DenseLayerFactors> ft = tm.denseLayerFactors(batch, ts);
            List<DenseLayerFactors> fp = pm.denseLayerFactors(batch, ps);
            assertEquals(fp.size(), ft.size());
            for (int j = 0; j < ft.size(); j++) {
                assertEquals(fp.get(j).layerIndex(), ft.get(j).layerIndex());
                assertEquals(fp.get(j).parameterOffset(), ft.get(j).parameterOffset());
                check(name, "inputs " + j, ft.get(j).inputs(), fp.get(j).inputs(), tol);
                check(name, "outputGradients " + j, ft.get(j).outputGradients(), fp.get(j).outputGradients(), tol);
            }
            LOG.info("{}: largest relative difference to PyTorch {}", name, worst);
        }
    }

    /** The largest relative difference seen in the current case (tests of one class run sequentially). */
    private double worst;

    private void check(String spec, String what, Tensor tf, Tensor pt, double tol) {
        assertArrayEquals(pt.shape(), tf.shape(), spec + ": " + what + " shape");
        assertEquals(pt.dtype(), tf.dtype(), spec + ": " + what + " dtype");
        double[] a = tf.toDoubleArray();
        double[] b = pt.toDoubleArray();
        double err = TestSupport.relErr(a, b);
        LOG.debug("{} {}: rel diff {}", spec, what, err);
        worst = Math.max(worst, err);
        assertTrue(TestSupport.norm(b) > 0, spec + ": " + what + " is zero on PyTorch");
        assertTrue(err < tol, spec + ": " + what + " rel diff " + err + " >= " + tol);
    }
}
