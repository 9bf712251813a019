package org.influence4j.api.inversion;

import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * The inverse of a {@link HessianOperator} as prepared by an {@link InverseHvpSolver}. It may hold
 * backend memory (factorisations): close it. Not thread-safe.
 */
public interface InverseHessian extends AutoCloseable {

    /**
     * Solves {@code A x_i = b_i} for every row {@code b_i} of {@code rhs}.
     *
     * @param rhs {@code [k, p]} right-hand sides (or a vector {@code [p]})
     * @return the solutions (same shape as {@code rhs}, owned by {@code scope}) and diagnostics
     * @throws InversionException if the method breaks down (negative curvature, divergence) or, unless the
     *     solver was told to allow it, misses its tolerance ({@link InversionException.Reason#NOT_CONVERGED})
     */
    InverseHvpResult solve(Tensor rhs, TensorScope scope);

    /** Frees what {@code prepare} allocated. Idempotent. */
    @Override
    void close();
}
