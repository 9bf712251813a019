package org.influence4j.calculators.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.junit.jupiter.api.Test;

class DataHessianOperatorTest {

    private static final int D = 4;
    private static final int N = 50;
    private final ModelSpec spec = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final Batch data = Fixtures.logisticData(N, D, 42);
    private final double[] theta = Fixtures.parameters(D + 1, 7);

    @Test
    void matrixEqualsClosedFormLogisticHessianPlusLambda() {
        double lambda = 0.05;
        HostModel model = new HostModel(spec, theta);
        DataHessianOperator op = new DataHessianOperator(model, new InMemoryDataSource(data), lambda, 7);
        double[][] expected = Fixtures.logisticHessian(data, theta, lambda);
        try (HostScope scope = HostBackend.scope()) {
            Tensor m = op.toMatrix(scope);
            assertArrayEquals(new long[] {D + 1, D + 1}, m.shape());
            assertTrue(Fixtures.maxAbsDiff(Fixtures.flatten(expected), m.toDoubleArray()) < 1e-14);
            assertEquals(1, scope.liveTensors(), "only the result survives");
        }
        assertEquals(1, op.passes());
        assertEquals(8, model.hessianCalls(), "ceil(50/7) batches in one pass");
    }

    @Test
    void applyEqualsMatrixTimesVectorAndBlock() {
        double lambda = 0.2;
        HostModel model = new HostModel(spec, theta);
        DataHessianOperator op = new DataHessianOperator(model, new InMemoryDataSource(data), lambda, 16);
        double[][] a = Fixtures.logisticHessian(data, theta, lambda);
        double[] v = Fixtures.parameters(D + 1, 99);
        try (HostScope scope = HostBackend.scope()) {
            double[] av = op.apply(scope.fromArray(v, DType.FLOAT64, D + 1), scope).toDoubleArray();
            assertTrue(Fixtures.maxAbsDiff(Fixtures.times(a, v), av) < 1e-14);
            double[][] block = new double[3][];
            for (int r = 0; r < 3; r++) {
                block[r] = Fixtures.parameters(D + 1, 100 + r);
            }
            Tensor out = op.apply(scope.fromArray(Fixtures.flatten(block), DType.FLOAT64, 3, D + 1), scope);
            assertArrayEquals(new long[] {3, D + 1}, out.shape());
            double[] o = out.toDoubleArray();
            for (int r = 0; r < 3; r++) {
                double[] expected = Fixtures.times(a, block[r]);
                for (int q = 0; q <= D; q++) {
                    assertEquals(expected[q], o[r * (D + 1) + q], 1e-14);
                }
            }
            assertEquals(4, scope.liveTensors(), "inputs and results only: no temporaries leak");
        }
        assertEquals(2, op.passes());
    }

    @Test
    void rejectsBadArguments() {
        HostModel model = new HostModel(spec, theta);
        DataSource source = new InMemoryDataSource(data);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DataHessianOperator(model, source, -0.1, 8));
        assertTrue(e.getMessage().startsWith("hessianRegularization: must be >= 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DataHessianOperator(model, source, Double.NaN, 8));
        e = assertThrows(IllegalArgumentException.class, () -> new DataHessianOperator(model, source, 0, 0));
        assertTrue(e.getMessage().startsWith("batchSize"), e.getMessage());
        DataSource wrongWidth = new InMemoryDataSource(Fixtures.logisticData(10, D + 1, 1));
        e = assertThrows(IllegalArgumentException.class, () -> new DataHessianOperator(model, wrongWidth, 0, 8));
        assertTrue(e.getMessage().contains("trainingData") && e.getMessage().contains("inputDim=" + D), e.getMessage());
        try (HostScope scope = HostBackend.scope()) {
            DataHessianOperator op = new DataHessianOperator(model, source, 0, 8);
            Tensor bad = scope.zeros(DType.FLOAT64, D);
            e = assertThrows(IllegalArgumentException.class, () -> op.apply(bad, scope));
            assertTrue(e.getMessage().startsWith("vs: shape [4]"), e.getMessage());
        }
    }

    @Test
    void validatesBatchesOnFirstPassOnly() {
        double[] y = data.y().clone();
        y[33] = 2;
        DataSource badLabels = new InMemoryDataSource(new Batch(data.x(), D, y, 1));
        HostModel model = new HostModel(spec, theta);
        DataHessianOperator op = new DataHessianOperator(model, badLabels, 0, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op::validateData);
        assertTrue(e.getMessage().contains("trainingData") && e.getMessage().contains("y[1]=2.0"), e.getMessage());
        try (HostScope scope = HostBackend.scope()) {
            assertThrows(IllegalArgumentException.class, () -> op.toMatrix(scope));
            assertEquals(0, scope.liveTensors(), "a failed pass leaves nothing behind");
        }
        assertTrue(!op.isValidated());
    }

    @Test
    void detectsDataSourceThatMisreportsItsSize() {
        InMemoryDataSource real = new InMemoryDataSource(data);
        DataSource lying = new DataSource() {
            @Override
            public long size() {
                return N + 1;
            }

            @Override
            public int numFeatures() {
                return D;
            }

            @Override
            public int labelWidth() {
                return 1;
            }

            @Override
            public Iterator<Batch> batches(int batchSize) {
                return real.batches(batchSize);
            }
        };
        DataHessianOperator op = new DataHessianOperator(new HostModel(spec, theta), lying, 0, 8);
        try (HostScope scope = HostBackend.scope()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> op.toMatrix(scope));
            assertTrue(e.getMessage().contains("size() = 51"), e.getMessage());
        }
    }
}
