package org.influence4j.calculators.inversion;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.util.concurrent.atomic.AtomicLong;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.calculators.testing.HostBackend;

/** Mockito {@link HessianOperator}s backed by an explicit symmetric matrix. */
final class MatrixOperators {

    private MatrixOperators() {
    }

    static HessianOperator of(double[][] a, double lambda) {
        int p = a.length;
        double[] flat = new double[p * p];
        for (int i = 0; i < p; i++) {
            System.arraycopy(a[i], 0, flat, i * p, p);
        }
        AtomicLong passes = new AtomicLong();
        HessianOperator op = mock(HessianOperator.class);
        TwiceDifferentiable model = mock(TwiceDifferentiable.class);
        when(model.backend()).thenReturn(HostBackend.INSTANCE);
        when(op.model()).thenReturn(model);
        when(op.dimension()).thenReturn(p);
        when(op.dtype()).thenReturn(DType.FLOAT64);
        when(op.regularization()).thenReturn(lambda);
        when(op.passes()).thenAnswer(inv -> passes.get());
        when(op.toMatrix(any())).thenAnswer(inv -> {
            passes.incrementAndGet();
            return ((TensorScope) inv.getArgument(0)).fromArray(flat, DType.FLOAT64, p, p);
        });
        when(op.apply(any(), any())).thenAnswer(inv -> {
            passes.incrementAndGet();
            Tensor vs = inv.getArgument(0);
            TensorScope scope = inv.getArgument(1);
            double[] v = vs.toDoubleArray();
            int k = v.length / p;
            double[] out = new double[v.length];
            for (int r = 0; r < k; r++) {
                for (int i = 0; i < p; i++) {
                    double s = 0;
                    for (int j = 0; j < p; j++) {
                        s += a[i][j] * v[r * p + j];
                    }
                    out[r * p + i] = s;
                }
            }
            return scope.fromArray(out, DType.FLOAT64, vs.shape());
        });
        return op;
    }
}
