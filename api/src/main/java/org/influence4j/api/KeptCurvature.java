package org.influence4j.api;

import org.influence4j.api.inversion.Curvature;

/**
 * The curvature-vector products of one batch (Hessian or Gauss-Newton) with what every product
 * would recompute kept: for a layer graph, the recorded forward pass over the batch (node outputs,
 * ReLU and max-pool masks; for the Hessian also the recorded backward pass) and a copy of θ. Made by
 * {@link TwiceDifferentiable#keepCurvature} for operators that apply the curvature of the same
 * batches many times at fixed θ (Lanczos, CG): each product then sweeps the recorded passes only.
 *
 * <p>Contract: {@link #times} equals {@link TwiceDifferentiable#hvpBlock} (Hessian) or
 * {@link TwiceDifferentiable#gaussNewtonBlock} (Gauss-Newton) of the batch (the same operations, so
 * the same numbers): where something is kept ({@link #keptBytes()} &gt; 0), at the parameters the model
 * had when this was made, also after they change; where nothing is (the default of
 * {@link TwiceDifferentiable#keepCurvature}), at the model's current parameters. Callers that may
 * change θ make it again (as {@code DataHessianOperator} does). Holds native memory: close it;
 * closing the model closes it too. Not thread-safe.
 */
public interface KeptCurvature extends AutoCloseable {

    /** @return the curvature whose products this gives */
    Curvature curvature();

    /**
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code C · vs[i,:]}, C the {@link #curvature()}
     *     of the batch's mean loss, owned by {@code scope}
     * @throws IllegalArgumentException naming {@code vs} or {@code scope} if they do not fit the model
     * @throws IllegalStateException if this or the model is closed
     */
    Tensor times(Tensor vs, TensorScope scope);

    /** @return an estimate of the native memory kept, in bytes (0 where nothing is kept) */
    long keptBytes();

    /** Frees what is kept. Idempotent. */
    @Override
    void close();
}
