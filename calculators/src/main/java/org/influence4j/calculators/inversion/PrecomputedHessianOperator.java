package org.influence4j.calculators.inversion;

import java.util.Arrays;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;

/**
 * A {@link HessianOperator} that materialises {@code A = H + λI} of another operator once
 * ({@link HessianOperator#toMatrix}, one data pass, p² values of backend memory) and applies it as a
 * matrix product afterwards: iterative solvers then cost one GEMM per iteration instead of one data
 * pass. This is influence4j's counterpart of pyDVL's {@code precompute_grad} (keep more in memory
 * to make every Hessian-vector product cheaper); the backends compute exact HVPs without a
 * retained autograd graph, so the Hessian itself is what can be kept.
 *
 * <p>{@link #passes()} counts the delegate's data passes plus this operator's {@link #apply}
 * calls, so solver diagnostics stay comparable. Close it to free the matrix. Not thread-safe.
 */
public final class PrecomputedHessianOperator implements PrecomputedOperator {

    /** The largest matrix (in bytes) that solvers precompute on request (2 GiB). */
    public static final long MAX_BYTES = 2L << 30;

    private final HessianOperator delegate;
    private final TensorScope scope;
    private final Tensor matrix;
    private long applies;

    /**
     * Materialises the matrix now.
     *
     * @throws IllegalArgumentException if p²·bytes exceeds {@link #MAX_BYTES}
     */
    public PrecomputedHessianOperator(HessianOperator delegate) {
        if (delegate == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        if (!fits(delegate)) {
            throw new IllegalArgumentException("operator: a dense " + delegate.dimension() + " x "
                    + delegate.dimension() + " matrix exceeds " + MAX_BYTES + " bytes; do not precompute it");
        }
        this.delegate = delegate;
        this.scope = delegate.model().backend().newScope();
        try {
            Tensor a = delegate.toMatrix(scope);
            long[] shape = a.shape();
            int p = delegate.dimension();
            if (shape.length != 2 || shape[0] != p || shape[1] != p) {
                throw new IllegalStateException("operator: toMatrix returned shape " + Arrays.toString(shape));
            }
            this.matrix = a;
        } catch (RuntimeException e) {
            scope.close();
            throw e;
        }
    }

    /** @return whether the dense matrix of {@code operator} is at most {@link #MAX_BYTES} */
    public static boolean fits(HessianOperator operator) {
        long p = operator.dimension();
        return p * p * operator.dtype().bytes() <= MAX_BYTES;
    }

    @Override
    public HessianOperator delegate() {
        return delegate;
    }

    /** A is symmetric, so {@code vs · A} applies A to every row. */
    @Override
    public Tensor apply(Tensor vs, TensorScope target) {
        boolean vector = DataHessianOperator.requireVectorOrBlock(vs, delegate.dimension());
        applies++;
        Tensor out;
        if (vector) {
            out = matrix.matmul(vs);
        } else {
            out = vs.matmul(matrix);
        }
        return out.moveTo(target);
    }

    @Override
    public Tensor toMatrix(TensorScope target) {
        applies++;
        try (Tensor zeros = target.zeros(matrix.dtype(), matrix.shape())) {
            return zeros.add(matrix);
        }
    }

    @Override
    public long passes() {
        return delegate.passes() + applies;
    }

    @Override
    public String form() {
        return "dense";
    }

    @Override
    public void close() {
        scope.close();
    }

    @Override
    public String toString() {
        return "PrecomputedHessianOperator[" + delegate + "]";
    }
}
