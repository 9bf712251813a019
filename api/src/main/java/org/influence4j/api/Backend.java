package org.influence4j.api;

import java.nio.file.Path;
import java.util.Set;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelOptions;

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

    /**
     * How many threads the backend's native operations started from the calling thread use
     * (intra-op parallelism), where the engine sets that per thread.
     *
     * @return the count, or 0 when the backend does not set it per calling thread (the default)
     */
    default int callingThreadOpThreads() {
        return 0;
    }

    /**
     * Sets {@link #callingThreadOpThreads()} for the calling thread, so that several Java threads,
     * each with its own model, can share the cores without oversubscribing them. An engine may also
     * take the value as the default of threads that have not yet used it (PyTorch does): a caller
     * that lowers it on worker threads sets its own value again when they are done.
     *
     * @param threads at least 1
     * @return whether it was set; false (the default) when the backend does not set it per thread
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    default boolean setCallingThreadOpThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: must be >= 1, got " + threads);
        }
        return false;
    }

    /**
     * Loads a model saved in an engine's own format (e.g. a TorchScript module), so that callers
     * need no compile-time dependency on the backend that reads it. A backend reads a format exactly
     * when {@link #capabilities()} contains {@code options.format().capability()}; the default
     * implementation reads none.
     *
     * @param file    the saved model
     * @param options the format and what the file does not say (input width, loss, dtype)
     * @return the model; the caller must close it
     * @throws UnsupportedOperationException if this backend does not read {@code options.format()}
     * @throws IllegalArgumentException naming the file when it is missing or cannot be read as that
     *     format, or naming the argument that is null
     */
    default TwiceDifferentiable loadModel(Path file, NativeModelOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null, e.g. NativeModelOptions.torchScript(...)");
        }
        throw new UnsupportedOperationException("backend " + name() + " cannot load "
                + options.format().displayName() + " models (no capability " + options.format().capability()
                + "); use a backend that lists it in `influence4j backends`");
    }
}
