package org.influence4j.api;

import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.Curvature;

/**
 * The kept empirical Fisher of a batch ({@link TwiceDifferentiable#keepCurvature} with
 * {@link Curvature#EMPIRICAL_FISHER}): its per-sample gradients G {@code [n, p]}, in a scope of their
 * own, so that every product is {@code (vs Gᵀ) G / n}, two matrix products and no pass through the
 * model. It is a copy: it stays usable after the model closes, until it is closed. The products'
 * intermediate and result tensors are made from {@code vs} (the left operand), so a thread that owns
 * {@code vs} and the target scope makes no tensor in this state's scope.
 */
final class KeptGradients implements KeptCurvature {

    private final TensorScope scope;
    private final Tensor gradients;
    private final Tensor transposed;
    private final int samples;
    private final long bytes;
    private boolean closed;

    private KeptGradients(TensorScope scope, Tensor gradients, int samples, long bytes) {
        this.scope = scope;
        this.gradients = gradients;
        this.transposed = gradients.transpose();
        this.samples = samples;
        this.bytes = bytes;
    }

    /** Computes and keeps the per-sample gradients of {@code batch} at the model's current θ. */
    static KeptGradients of(TwiceDifferentiable model, Batch batch) {
        TensorScope scope = model.backend().newScope();
        try {
            Tensor g = model.perSampleGradients(batch, scope);
            return new KeptGradients(scope, g, batch.size(),
                    (long) batch.size() * model.numParameters() * model.spec().dtype().bytes());
        } catch (RuntimeException | Error e) {
            scope.close();
            throw e;
        }
    }

    @Override
    public Curvature curvature() {
        return Curvature.EMPIRICAL_FISHER;
    }

    @Override
    public Tensor times(Tensor vs, TensorScope target) {
        if (closed) {
            throw new IllegalStateException("the kept empirical Fisher is closed; keep the batch again with"
                    + " keepCurvature");
        }
        int p = (int) gradients.shape()[1];
        if (requireRows(vs, p) == 0) {
            return target.fromArray(new double[0], vs.dtype(), 0, p);
        }
        try (Tensor projected = vs.matmul(transposed); Tensor product = projected.matmul(gradients)) {
            return product.scale(1.0 / samples).moveTo(target);
        }
    }

    /**
     * @return k, the rows of {@code vs}
     * @throws IllegalArgumentException naming {@code vs} if it is not a matrix {@code [k, p]}
     */
    static long requireRows(Tensor vs, int p) {
        long[] shape = vs.shape();
        if (shape.length != 2 || shape[1] != p) {
            throw new IllegalArgumentException("vs: shape " + java.util.Arrays.toString(shape) + " is not [k, " + p
                    + "]; the curvature acts on rows of the " + p + " model parameters");
        }
        return shape[0];
    }

    @Override
    public long keptBytes() {
        return closed ? 0 : bytes;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            scope.close();
        }
    }
}
