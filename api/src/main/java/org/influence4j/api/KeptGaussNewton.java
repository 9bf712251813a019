package org.influence4j.api;

/**
 * The Gauss-Newton products of one batch with what every product would recompute kept: for a layer
 * graph, the forward pass over the batch (node outputs, ReLU and max-pool masks) and a copy of θ.
 * Made by {@link TwiceDifferentiable#keepGaussNewton} for operators that apply the Gauss-Newton matrix
 * many times at fixed θ (Lanczos, CG): each product then costs the forward-mode and backward sweeps
 * only.
 *
 * <p>Contract: {@link #gaussNewtonBlock} equals {@link TwiceDifferentiable#gaussNewtonBlock} of the
 * batch at the parameters the model had when this was made (the same operations, so the same
 * numbers), also after the model's parameters change. Holds native memory ({@link #keptBytes()}):
 * close it; closing the model closes it too. Not thread-safe.
 */
public interface KeptGaussNewton extends AutoCloseable {

    /**
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code G · vs[i,:]}, G the Gauss-Newton matrix of
     *     the batch's mean loss, owned by {@code scope}
     * @throws IllegalArgumentException naming {@code vs} or {@code scope} if they do not fit the model
     * @throws IllegalStateException if this or the model is closed
     */
    Tensor gaussNewtonBlock(Tensor vs, TensorScope scope);

    /** @return an estimate of the native memory kept, in bytes (0 where nothing is kept) */
    long keptBytes();

    /** Frees what is kept. Idempotent. */
    @Override
    void close();
}
