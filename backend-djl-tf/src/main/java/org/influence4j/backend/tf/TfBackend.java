package org.influence4j.backend.tf;

import ai.djl.engine.Engine;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;

/**
 * The {@code djl-tf} backend: {@link TfTensorScope scopes} over DJL {@code NDManager}s of the
 * TensorFlow engine (eager tensors) and {@link TfModel models} built as TensorFlow graphs whose
 * derivatives come from {@code Graph.addGradients}. One instance per JVM, obtained from
 * {@link TfBackendProvider#create()} (or {@link TfBackendProvider#backend()}).
 *
 * <p>Capabilities: {@code FLOAT64}, {@code EXACT_HVP} (symbolic double gradients, see
 * {@link TfModel}), {@code BATCHED_PER_SAMPLE_GRADIENTS}, {@code DENSE_LAYER_FACTORS},
 * {@code MIXED_DERIVATIVES}. Models are not thread-safe (no {@code THREAD_SAFE_MODELS}); CPU only
 * (no {@code CUDA}). The backend itself is thread-safe.
 */
public final class TfBackend implements Backend {

    private static final Set<BackendCapability> CAPABILITIES = Collections.unmodifiableSet(EnumSet.of(
            BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
            BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
            BackendCapability.MIXED_DERIVATIVES));

    private final Engine engine;
    private final String version;

    TfBackend(Engine engine) {
        this.engine = engine;
        this.version = "DJL " + Engine.getDjlVersion() + " / TensorFlow " + engine.getVersion();
    }

    @Override
    public String name() {
        return TfBackendProvider.NAME;
    }

    /** @return e.g. {@code DJL 0.35.1 / TensorFlow 2.16.1}, read from the loaded engine */
    @Override
    public String version() {
        return version;
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public TfTensorScope newScope() {
        return new TfTensorScope(this, engine.newBaseManager());
    }

    /**
     * Builds a {@link TfModel}.
     *
     * @throws IllegalArgumentException if the spec is null, or the parameters have the wrong length or a NaN/Inf
     */
    @Override
    public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: must not be null");
        }
        return new TfModel(this, spec, parameters);
    }

    /** @return the scope behind {@code scope}, checking that it belongs to this backend */
    TfTensorScope requireScope(TensorScope scope, String argument) {
        if (!(scope instanceof TfTensorScope tf)) {
            throw new IllegalArgumentException(argument + ": expected a djl-tf scope (from TfBackend.newScope()),"
                    + " got " + (scope == null ? "null" : scope.getClass().getName()));
        }
        return tf;
    }

    @Override
    public String toString() {
        return "TfBackend[" + version + "]";
    }
}
