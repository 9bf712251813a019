package org.influence4j.calculators.chunked;

import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.calculators.influence.InverseHessianInfluence;

/**
 * What one worker thread computes chunks with: a fitted influence model, the backend whose
 * scopes it uses, and the number of model parameters p (the width of influence factors).
 *
 * <p>{@link #close()} runs {@code onClose}: workers made by an {@link InfluenceWorkerFactory} own
 * their models and free them there; {@link #shared} workers free nothing (their owner does).
 *
 * @param model         a fitted influence model
 * @param backend       the backend that creates the scopes for this model's tensors
 * @param numParameters p, positive
 * @param onClose       what to free when the worker is done, or {@code null} for nothing
 */
public record InfluenceWorker(InfluenceFunctionModel model, Backend backend, int numParameters,
        AutoCloseable onClose) implements AutoCloseable {

    /** @throws IllegalArgumentException naming a null or out-of-range argument */
    public InfluenceWorker {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (backend == null) {
            throw new IllegalArgumentException("backend: must not be null");
        }
        if (numParameters <= 0) {
            throw new IllegalArgumentException("numParameters: must be > 0, got " + numParameters);
        }
    }

    /** @return a worker on {@code influence} and its model that frees nothing when closed */
    public static InfluenceWorker shared(InfluenceFunctionModel influence, TwiceDifferentiable model) {
        return new InfluenceWorker(influence, model.backend(), model.numParameters(), null);
    }

    /** @return a worker on an {@link InverseHessianInfluence} (or a preset's delegate) that frees nothing */
    public static InfluenceWorker shared(InverseHessianInfluence influence) {
        return shared(influence, influence.model());
    }

    /** @return a worker that closes {@code influence} and then {@code model} when closed */
    public static InfluenceWorker owning(InfluenceFunctionModel influence, TwiceDifferentiable model) {
        return new InfluenceWorker(influence, model.backend(), model.numParameters(), () -> {
            try {
                influence.close();
            } finally {
                model.close();
            }
        });
    }

    @Override
    public void close() {
        if (onClose != null) {
            try {
                onClose.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing influence worker failed: " + e.getMessage(), e);
            }
        }
    }
}
