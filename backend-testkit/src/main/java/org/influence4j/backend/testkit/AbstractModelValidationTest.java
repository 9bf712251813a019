package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input gets an IllegalArgumentException that names the argument and the problem. */
public abstract class AbstractModelValidationTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    private static final ModelSpec SPEC = TestSupport.twoHiddenLayers(Loss.SOFTMAX_CROSS_ENTROPY,
            DType.FLOAT64);

    private static void assertMessage(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    public void wrongParameterLengthAndNanParametersAreRejected() {
        Backend backend = backend();
        int p = SPEC.numParameters();
        assertMessage(() -> backend.createModel(SPEC, new double[p - 1]), "parameters", "length " + (p - 1),
                String.valueOf(p));
        double[] nan = SPEC.initialParameters(1);
        nan[7] = Double.NaN;
        assertMessage(() -> backend.createModel(SPEC, nan), "parameters", "parameter 7", "NaN");
        try (TwiceDifferentiable model = backend.createModel(SPEC, SPEC.initialParameters(1))) {
            double[] inf = SPEC.initialParameters(2);
            inf[0] = Double.POSITIVE_INFINITY;
            assertMessage(() -> model.setParameters(inf), "parameters", "Infinity");
            assertMessage(() -> model.setParameters(new double[3]), "parameters", "length 3");
            assertEquals(SPEC.initialParameters(1)[0], model.parameters()[0], 0.0, "a rejected update changes nothing");
        }
    }

    @Test
    public void badBatchesAreRejected() {
        Batch good = TestSupport.randomBatch(SPEC, 4, 1);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(SPEC, SPEC.initialParameters(1))) {
            double[] x = good.x().clone();
            x[6] = Double.NaN;
            Batch nanX = new Batch(x, 5, good.y(), 1);
            assertMessage(() -> model.gradient(nanX, scope), "batch", "x[1][1]", "NaN");
            assertMessage(() -> model.hvp(nanX, scope.zeros(DType.FLOAT64, SPEC.numParameters()), scope),
                    "batch", "NaN");
            Batch narrow = new Batch(new double[16], 4, new double[4], 1);
            assertMessage(() -> model.loss(narrow), "batch", "4 features", "inputDim=5");
            assertMessage(() -> new Batch(new double[15], 5, new double[2], 1), "3 samples", "y has 2",
                    "same number of rows");
            Batch badLabel = new Batch(good.x(), 5, new double[] {0, 1, 3, 2}, 1);
            assertMessage(() -> model.perSampleGradients(badLabel, scope), "batch", "y[2]=3.0", "class index");
            assertMessage(() -> model.gradient(null, scope), "batch");
            Batch empty = new Batch(new double[0], 5, new double[0], 1);
            assertMessage(() -> model.loss(empty), "batch", "empty");
        }
    }

    @Test
    public void badVectorsAndScopesAreRejected() {
        Batch batch = TestSupport.randomBatch(SPEC, 4, 1);
        int p = SPEC.numParameters();
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(SPEC, SPEC.initialParameters(1))) {
            assertMessage(() -> model.hvp(batch, scope.zeros(DType.FLOAT64, p + 1), scope), "v", "[" + (p + 1) + "]");
            assertMessage(() -> model.hvp(batch, scope.zeros(DType.FLOAT64, 1, p), scope), "v", "[1, " + p + "]");
            assertMessage(() -> model.hvpBlock(batch, scope.zeros(DType.FLOAT64, p), scope), "vs", "[k, " + p + "]");
            assertMessage(() -> model.hvp(batch, null, scope), "v");
            assertMessage(() -> model.gradient(batch, null), "scope");
            assertFalse(model.isThreadSafe());
        }
    }

    @Test
    public void aClosedModelRefusesWorkAndCloseIsIdempotent() {
        Batch batch = TestSupport.randomBatch(SPEC, 4, 1);
        TwiceDifferentiable model = backend().createModel(SPEC, SPEC.initialParameters(1));
        model.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.loss(batch));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        model.close();
    }

    /**
     * A replica has the model's parameters and losses, and its own parameters: setting either leaves
     * the other as it was; closing the replica leaves the model working.
     */
    @Test
    public void aReplicaIsAnEqualAndIndependentModel() {
        Batch batch = TestSupport.randomBatch(SPEC, 4, 1);
        double[] other = SPEC.initialParameters(2);
        try (TwiceDifferentiable model = backend().createModel(SPEC, SPEC.initialParameters(1))) {
            double loss = model.loss(batch);
            double otherLoss;
            try (TwiceDifferentiable replica = model.replicate()) {
                assertArrayEquals(model.parameters(), replica.parameters());
                assertEquals(loss, replica.loss(batch), 0.0);
                replica.setParameters(other);
                assertArrayEquals(SPEC.initialParameters(1), model.parameters());
                assertEquals(loss, model.loss(batch), 0.0);
                otherLoss = replica.loss(batch);
                assertTrue(otherLoss != loss, "the replica's own parameters are used");
                model.setParameters(other);
                assertEquals(otherLoss, model.loss(batch), 0.0);
            }
            assertEquals(otherLoss, model.loss(batch), 0.0);
        }
    }
}
