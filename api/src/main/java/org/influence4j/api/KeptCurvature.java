package org.influence4j.api;

import org.influence4j.api.inversion.Curvature;

/**
 * The curvature-vector products of one batch (Hessian, Gauss-Newton or empirical Fisher) with what
 * every product would recompute kept: for a layer graph, the recorded forward pass over the batch
 * (node outputs, ReLU and max-pool masks; for the Hessian also the recorded backward pass) and a copy
 * of θ; for the empirical Fisher, the batch's per-sample gradients (a layer graph's Embedding tables
 * as their looked-up rows, kept like the recorded passes). Made by
 * {@link TwiceDifferentiable#keepCurvature} for operators that apply the curvature of the same
 * batches many times at fixed θ (Lanczos, CG): each product then sweeps the kept state only.
 *
 * <p>Contract: {@link #times} equals {@link TwiceDifferentiable#curvatureBlock} of the batch (for
 * the recorded passes the same operations, so the same numbers; for the kept gradients the same up to
 * floating-point reassociation): where something is kept ({@link #keptBytes()} &gt; 0), at the
 * parameters the model had when this was made, also after they change; where nothing is (the
 * Hessian and Gauss-Newton default of {@link TwiceDifferentiable#keepCurvature}), at the model's
 * current parameters. Callers that may change θ make it again (as {@code DataHessianOperator} does).
 * Holds native memory: close it; closing the model closes the recorded passes too (the default's
 * kept gradients are a copy that never uses the model again, and stay until closed). Not
 * thread-safe.
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
