package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.api.Test;

/**
 * What the shared fixture suite does not cover for {@link Nd4jGraphModel}: routing and capabilities,
 * the gather-and-sum adjoint used on CUDA (against ND4J's scatter-add used on the CPU), new
 * parameters, empty blocks, directions of the other dtype, and the errors of a closed model.
 */
class Nd4jGraphModelTest {

    private static final Nd4jBackend BACKEND = Nd4jBackendProvider.backend();

    @Test
    void graphSpecsBuildGraphModelsAndTheBackendSaysSo() {
        assertTrue(BACKEND.capabilities().contains(BackendCapability.LAYER_GRAPH));
        assertTrue(BACKEND.capabilities().contains(BackendCapability.GAUSS_NEWTON));
        GraphFixture f = GraphFixture.load("embed_mean");
        try (TwiceDifferentiable model = BACKEND.createModel(f.spec(), f.parameters())) {
            assertInstanceOf(Nd4jGraphModel.class, model);
            assertEquals(f.v().length, model.numParameters());
        }
        assertThrows(IllegalArgumentException.class, () -> BACKEND.createModel(f.spec(), new double[3]));
    }

    /** The adjoint of the row gathers (embeddings, im2col) through the graph module's default equals ND4J's scatter-add. */
    @Test
    void theDefaultScatterGivesTheSameDerivativesAsNd4jsScatterAdd() {
        for (String name : GraphFixture.NAMES) {
            GraphFixture f = GraphFixture.load(name);
            int p = f.v().length;
            try (Nd4jGraphModel nativeScatter = new Nd4jGraphModel(BACKEND, f.spec(), f.parameters(), true);
                 Nd4jGraphModel gatherSum = new Nd4jGraphModel(BACKEND, f.spec(), f.parameters(), false);
                 Nd4jTensorScope scope = BACKEND.newScope()) {
                Tensor v = scope.fromArray(f.v(), DType.FLOAT64, 1, p);
                double[] a = nativeScatter.perSampleGradients(f.batch(), scope).toDoubleArray();
                double[] b = gatherSum.perSampleGradients(f.batch(), scope).toDoubleArray();
                assertTrue(TestSupport.relErr(b, a) < 1e-14, name + " per-sample gradients");
                a = nativeScatter.hvpBlock(f.batch(), v, scope).toDoubleArray();
                b = gatherSum.hvpBlock(f.batch(), v, scope).toDoubleArray();
                assertTrue(TestSupport.relErr(b, a) < 1e-14, name + " hvp");
                a = nativeScatter.gaussNewtonBlock(f.batch(), v, scope).toDoubleArray();
                b = gatherSum.gaussNewtonBlock(f.batch(), v, scope).toDoubleArray();
                assertTrue(TestSupport.relErr(b, a) < 1e-14, name + " Gauss-Newton");
            }
        }
    }

    @Test
    void newParametersGiveTheOutputsOfAFreshModel() {
        GraphFixture f = GraphFixture.load("lenet");
        double[] other = f.parameters().clone();
        for (int i = 0; i < other.length; i++) {
            other[i] *= 0.5 + (i % 3) * 0.25;
        }
        try (TwiceDifferentiable model = BACKEND.createModel(f.spec(), f.parameters());
             TwiceDifferentiable fresh = BACKEND.createModel(f.spec(), other);
             Nd4jTensorScope scope = BACKEND.newScope()) {
            model.setParameters(other);
            assertArrayEquals(other, model.parameters());
            assertArrayEquals(fresh.forward(f.batch(), scope).toDoubleArray(), model.forward(f.batch(), scope)
                    .toDoubleArray());
            assertArrayEquals(fresh.gradient(f.batch(), scope).toDoubleArray(), model.gradient(f.batch(), scope)
                    .toDoubleArray());
        }
    }

    @Test
    void emptyBlocksGiveEmptyResults() {
        GraphFixture f = GraphFixture.load("resnet");
        int p = f.v().length;
        Batch b = f.batch();
        try (TwiceDifferentiable model = BACKEND.createModel(f.spec(), f.parameters());
             Nd4jTensorScope scope = BACKEND.newScope()) {
            Tensor none = scope.zeros(DType.FLOAT64, 0, p);
            assertArrayEquals(new long[] {0, p}, model.hvpBlock(b, none, scope).shape());
            assertArrayEquals(new long[] {0, p}, model.gaussNewtonBlock(b, none, scope).shape());
            assertArrayEquals(new long[] {0, b.size(), b.numFeatures()},
                    model.mixedGradientProducts(b, none, scope).shape());
            assertThrows(IllegalArgumentException.class, () -> model.hvp(b, scope.zeros(DType.FLOAT64, p + 1), scope));
            assertThrows(IllegalArgumentException.class,
                    () -> model.hvpBlock(b, scope.zeros(DType.FLOAT64, 2, p - 1), scope));
        }
    }

    /** A float32 direction for a float64 model is converted, not refused; the result has the model's dtype. */
    @Test
    void directionsOfTheOtherDTypeAreConverted() {
        GraphFixture f = GraphFixture.load("embed_layernorm");
        int p = f.v().length;
        float[] single = new float[p];
        double[] rounded = new double[p];
        for (int j = 0; j < p; j++) {
            single[j] = (float) f.v()[j];
            rounded[j] = single[j];
        }
        try (TwiceDifferentiable model = BACKEND.createModel(f.spec(), f.parameters());
             Nd4jTensorScope scope = BACKEND.newScope()) {
            Tensor v32 = scope.fromArray(rounded, DType.FLOAT32, p);
            Tensor v64 = scope.fromArray(rounded, DType.FLOAT64, p);
            Tensor hv = model.hvp(f.batch(), v32, scope);
            assertEquals(DType.FLOAT64, hv.dtype());
            assertArrayEquals(model.hvp(f.batch(), v64, scope).toDoubleArray(), hv.toDoubleArray());
        }
    }

    @Test
    void tokenModelsRefuseMixedDerivativesAndClosedModelsRefuseCalls() {
        GraphFixture f = GraphFixture.load("embed_mean");
        int p = f.v().length;
        TwiceDifferentiable model = BACKEND.createModel(f.spec(), f.parameters());
        try (Nd4jTensorScope scope = BACKEND.newScope()) {
            Tensor v = scope.fromArray(f.v(), DType.FLOAT64, 1, p);
            assertThrows(UnsupportedOperationException.class, () -> model.mixedGradientProducts(f.batch(), v, scope));
            model.close();
            model.close();
            assertThrows(IllegalStateException.class, () -> model.loss(f.batch()));
            assertThrows(IllegalStateException.class, () -> model.gradient(f.batch(), scope));
        }
    }
}
