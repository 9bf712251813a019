package org.influence4j.api.inversion;

import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.DataSource;

/**
 * The regularized Hessian {@code A = ∇²θ L(θ) + λI} of the <em>mean</em> training loss
 * {@code L = (1/n) Σ ℓ_i} as a symmetric linear operator on parameter space (Commons Math's
 * {@code RealLinearOperator} for tensors). Applying it costs one pass over the training data.
 */
public interface HessianOperator {

    /** @return p, the operator's dimension */
    int dimension();

    /** @return the dtype of the tensors it takes and returns */
    DType dtype();

    /** @return λ ≥ 0, the multiple of the identity added to the Hessian */
    double regularization();

    /** @return the model whose Hessian this is */
    TwiceDifferentiable model();

    /** @return the training data the Hessian averages over */
    DataSource data();

    /**
     * Applies A to each row of {@code vs}.
     *
     * @param vs {@code [k, p]} (or a vector {@code [p]})
     * @return {@code A · vsᵀ} transposed back: the same shape as {@code vs}, owned by {@code scope}
     */
    Tensor apply(Tensor vs, TensorScope scope);

    /** @return the dense matrix A {@code [p, p]}; for small p only */
    Tensor toMatrix(TensorScope scope);

    /** @return how many data passes ({@link #apply} or {@link #toMatrix} calls) were made so far */
    long passes();
}
