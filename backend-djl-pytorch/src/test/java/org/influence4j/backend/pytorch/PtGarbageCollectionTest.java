package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.api.Test;

/**
 * DJL creates CPU tensors from Java data with {@code from_blob} over a direct {@link ByteBuffer}
 * that only its {@code NDArray} keeps alive; scalar arguments ({@code x.div(3.0)}) are such tensors,
 * closed right after the op even when autograd saved them. A GC between building a graph and its
 * backward pass then frees memory that libtorch still reads (measured: d(x/3)/dx came out as
 * Infinity every time). These tests fail if any tensor of this backend depends on Java-owned memory.
 */
class PtGarbageCollectionTest {

    /** Frees unreachable direct buffers and reuses their memory with junk. */
    private static void churn(List<ByteBuffer> junk) {
        System.gc();
        for (int k = 0; k < 64; k++) {
            ByteBuffer b = ByteBuffer.allocateDirect(64);
            for (int i = 0; i < 8; i++) {
                b.putDouble(i * 8, 1e300);
            }
            junk.add(b);
        }
        if (junk.size() > 8192) {
            junk.clear();
        }
    }

    @Test
    void viewsOutliveTheirClosedParentUnderGarbageCollection() {
        List<ByteBuffer> junk = new ArrayList<>();
        try (PtTensorScope scope = PtBackendProvider.backend().newScope()) {
            for (int it = 0; it < 50; it++) {
                Tensor parent = scope.fromArray(new double[] {1, 2, 3, 4, 5, 6}, DType.FLOAT64, 3, 2);
                Tensor rows = parent.rows(1, 3);
                Tensor reshaped = parent.reshape(6);
                Tensor transposed = parent.transpose();
                parent.close();
                churn(junk);
                assertArrayEquals(new double[] {3, 4, 5, 6}, rows.toDoubleArray(), 0, "iteration " + it);
                assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, reshaped.toDoubleArray(), 0);
                assertArrayEquals(new double[] {1, 3, 5, 2, 4, 6}, transposed.toDoubleArray(), 0);
            }
        }
    }

    @Test
    void hvpStaysExactWhileAnotherThreadForcesGarbageCollection() throws InterruptedException {
        int d = 3;
        int n = 20;
        ModelSpec spec = ModelSpec.builder(d).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, n, 31);
        double[] theta = TestSupport.parameters(spec, 32, 3);
        double[] v = TestSupport.randomUnitVector(d + 1, 33);
        // closed form: H v = X̃ᵀ diag(p(1−p)) X̃ v / n
        double[] expected = new double[d + 1];
        for (int i = 0; i < n; i++) {
            double z = theta[d];
            double xv = v[d];
            for (int j = 0; j < d; j++) {
                z += batch.x()[i * d + j] * theta[j];
                xv += batch.x()[i * d + j] * v[j];
            }
            double p = 1 / (1 + Math.exp(-z));
            for (int j = 0; j <= d; j++) {
                expected[j] += (j < d ? batch.x()[i * d + j] : 1) * p * (1 - p) * xv / n;
            }
        }
        AtomicBoolean running = new AtomicBoolean(true);
        Thread collector = new Thread(() -> {
            List<ByteBuffer> junk = new ArrayList<>();
            while (running.get()) {
                churn(junk);
            }
        }, "gc-churn");
        collector.setDaemon(true);
        collector.start();
        try (PtTensorScope scope = PtBackendProvider.backend().newScope();
             TwiceDifferentiable model = PtBackendProvider.backend().createModel(spec, theta)) {
            Tensor vt = scope.fromArray(v, DType.FLOAT64, v.length);
            for (int it = 0; it < 300; it++) {
                try (Tensor hv = model.hvp(batch, vt, scope); Tensor g = model.gradient(batch, scope)) {
                    assertArrayEquals(expected, hv.toDoubleArray(), 1e-12, "iteration " + it);
                    assertEquals(d + 1, g.numel());
                }
            }
        } finally {
            running.set(false);
            collector.join();
        }
    }
}
