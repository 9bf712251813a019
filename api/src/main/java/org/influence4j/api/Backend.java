package org.influence4j.api;

import java.util.Set;
import org.influence4j.api.model.ModelSpec;

/**
 * A tensor engine (DJL PyTorch, DJL TensorFlow, ND4J, ...) as influence4j uses it: a factory of
 * {@link TensorScope scopes} and of {@link TwiceDifferentiable models} built from a portable
 * {@link ModelSpec}. Instances are created by a {@link BackendProvider} found through
 * {@link java.util.ServiceLoader}; creating one may load native libraries.
 *
 * <p>Implementations are thread-safe: scopes and models may be created from any thread.
 */
public interface Backend {

    /** @return the stable name used in configuration, e.g. {@code djl-pytorch} */
    String name();

    /** @return a human-readable version, e.g. {@code DJL 0.35.1 / PyTorch 2.7.1} */
    String version();

    /** @return the capabilities this backend really has */
    Set<BackendCapability> capabilities();

    /** @return a new root scope; the caller must close it */
    TensorScope newScope();

    /**
     * Builds the model described by {@code spec} with the given flat parameters.
     *
     * @param spec       the model description (its dtype decides the model's precision)
     * @param parameters flat parameters in PyTorch {@code named_parameters()} order, length
     *                   {@link ModelSpec#numParameters()}; copied
     * @throws IllegalArgumentException if the length is wrong or a value is NaN/Inf
     * @throws UnsupportedOperationException if the spec uses a dtype this backend lacks
     */
    TwiceDifferentiable createModel(ModelSpec spec, double[] parameters);
}
