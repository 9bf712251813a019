package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.HessianOperator;

/**
 * The regularized Gauss-Newton operator {@code G + λI} of a {@link DataHessianOperator}, kept as the
 * square-root factors of G ({@link TwiceDifferentiable#gaussNewtonFactors}, one data pass of one
 * forward and c backward passes per batch): {@code G = (1/n) Σ_b M_bᵀ M_b}, so every later product
 * is {@code (1/n) Σ_b M_bᵀ (M_b v) + λ v}, two matrix products per batch and no pass through the
 * model. The same numbers as the delegate's products up to floating-point reassociation. On the
 * empirical Fisher ({@link Curvature#EMPIRICAL_FISHER}) the factors are the per-sample gradients
 * ({@link TwiceDifferentiable#perSampleGradients}, c = 1).
 *
 * <p>Memory: {@code n·c·p} values (c = outputDim, 1 for the empirical Fisher), bounded by
 * {@link #MAX_BYTES}. This is what a
 * precompute option keeps for these curvatures ({@link PrecomputedOperator#ifFits}): the
 * dense matrix would take p products to build.
 *
 * <p>{@link #passes()} counts the delegate's data passes (the building pass among them) and this
 * operator's {@link #apply} and {@link #toMatrix} calls. Not thread-safe. Close it to free the factors.
 */
public final class FactoredGaussNewtonOperator implements PrecomputedOperator {

    /** The most memory (in bytes) the factors may take (2 GiB, as {@link PrecomputedHessianOperator#MAX_BYTES}). */
    public static final long MAX_BYTES = PrecomputedHessianOperator.MAX_BYTES;

    private final DataHessianOperator delegate;
    private final TensorScope scope;
    private final List<Tensor> factors = new ArrayList<>();
    private long applies;

    /**
     * Reads the data once and keeps the factors of every batch.
     *
     * @param delegate an operator on the Gauss-Newton matrix whose factors {@link #fits}
     * @throws IllegalArgumentException if it is not on the Gauss-Newton matrix or the factors exceed
     *     {@link #MAX_BYTES}
     * @throws UnsupportedOperationException if the model does not provide the factors
     */
    public FactoredGaussNewtonOperator(DataHessianOperator delegate) {
        if (delegate == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        if (delegate.curvature() == Curvature.HESSIAN) {
            throw new IllegalArgumentException("operator: the factors are those of the Gauss-Newton matrix or the"
                    + " empirical Fisher; this operator applies the Hessian; use PrecomputedHessianOperator");
        }
        if (bytes(delegate) > MAX_BYTES) {
            throw new IllegalArgumentException("operator: the " + delegate.curvature().key() + " factors of "
                    + delegate.data().size()
                    + " samples take " + bytes(delegate) + " bytes, more than " + MAX_BYTES + "; do not precompute them");
        }
        this.delegate = delegate;
        TwiceDifferentiable model = delegate.model();
        this.scope = model.backend().newScope();
        try {
            delegate.forEachBatch(batch -> factors.add(factorsOf(delegate, batch, scope)));
        } catch (RuntimeException e) {
            scope.close();
            throw e;
        }
    }

    /**
     * @return whether {@code operator} is a {@link DataHessianOperator} on the Gauss-Newton matrix or
     *     the empirical Fisher whose factors take at most {@link #MAX_BYTES}
     */
    public static boolean fits(HessianOperator operator) {
        return operator instanceof DataHessianOperator d && d.curvature() != Curvature.HESSIAN
                && bytes(d) <= MAX_BYTES;
    }

    /**
     * The square-root factors of one batch: its per-sample gradients for the empirical Fisher, else
     * {@link TwiceDifferentiable#gaussNewtonFactors}.
     */
    private static Tensor factorsOf(DataHessianOperator delegate, Batch batch, TensorScope scope) {
        TwiceDifferentiable model = delegate.model();
        return delegate.curvature() == Curvature.EMPIRICAL_FISHER ? model.perSampleGradients(batch, scope)
                : model.gaussNewtonFactors(batch, scope);
    }

    /**
     * The factor rows R {@code [r, p]} of every batch of one data pass of {@code delegate}, stacked in
     * order: {@code G = (1/n) RᵀR} for the curvature of an operator that {@link #fits}.
     *
     * @return R in the operator's dtype, owned by {@code scope}
     * @throws UnsupportedOperationException if the model does not provide the Gauss-Newton factors
     */
    static Tensor stackedFactors(DataHessianOperator delegate, TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            List<Tensor> parts = new ArrayList<>();
            delegate.forEachBatch(batch -> parts.add(factorsOf(delegate, batch, work)));
            return RowBlocks.concatAll(parts).moveTo(scope);
        }
    }

    /** @return r = n·c, the factor rows of the operator's curvature (c = 1 for the empirical Fisher) */
    static long rows(DataHessianOperator operator) {
        long c = operator.curvature() == Curvature.EMPIRICAL_FISHER ? 1 : operator.model().spec().outputDim();
        try {
            return Math.multiplyExact(operator.data().size(), c);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** @return n·c·p·(bytes per value), saturating at {@link Long#MAX_VALUE} */
    static long bytes(DataHessianOperator operator) {
        try {
            long rows = rows(operator);
            return Math.multiplyExact(Math.multiplyExact(rows, (long) operator.dimension()), operator.dtype().bytes());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public HessianOperator delegate() {
        return delegate;
    }

    /**
     * {@inheritDoc}
     *
     * @param vs a vector {@code [p]} or a block {@code [k, p]}
     * @throws IllegalArgumentException if the shape does not end in p
     */
    @Override
    public Tensor apply(Tensor vs, TensorScope target) {
        int p = dimension();
        boolean vector = DataHessianOperator.requireVectorOrBlock(vs, p);
        applies++;
        Tensor sum = null;
        try (Tensor columns = vector ? vs.reshape(p, 1) : vs.transpose()) {
            for (Tensor m : factors) {
                // M_b vsᵀ [r, k], then its transpose times M_b: [k, p]
                try (Tensor projected = m.matmul(columns); Tensor rows = projected.transpose();
                     Tensor product = rows.matmul(m)) {
                    Tensor next = sum == null ? product.scale(1.0) : sum.add(product);
                    if (sum != null) {
                        sum.close();
                    }
                    sum = next;
                }
            }
            Tensor mean = sum.scale(1.0 / delegate.data().size());
            sum.close();
            sum = mean;
            Tensor out = vector ? sum.reshape(p) : sum;
            if (out != sum) {
                sum.close();
            }
            if (regularization() != 0) {
                Tensor regularized = out.axpy(regularization(), vs);
                out.close();
                out = regularized;
            }
            return out.moveTo(target);
        } catch (RuntimeException e) {
            if (sum != null) {
                sum.close();
            }
            throw e;
        }
    }

    /** {@inheritDoc} Computed as {@code (1/n) Σ_b M_bᵀ M_b + λI}; needs {@code p²} values of memory. */
    @Override
    public Tensor toMatrix(TensorScope target) {
        applies++;
        int p = dimension();
        try (TensorScope work = target.newChild()) {
            Tensor acc = work.zeros(dtype(), p, p);
            for (Tensor m : factors) {
                try (Tensor mt = m.transpose(); Tensor gram = mt.matmul(m)) {
                    Tensor next = acc.add(gram);
                    acc.close();
                    acc = next;
                }
            }
            try (Tensor eye = work.eye(dtype(), p); Tensor mean = acc.scale(1.0 / delegate.data().size())) {
                acc.close();
                return mean.axpy(regularization(), eye).moveTo(target);
            }
        }
    }

    @Override
    public long passes() {
        return delegate.passes() + applies;
    }

    @Override
    public String form() {
        return delegate.curvature().key() + "-factors";
    }

    @Override
    public void close() {
        scope.close();
    }

    @Override
    public String toString() {
        return "FactoredGaussNewtonOperator[" + delegate + "]";
    }
}
