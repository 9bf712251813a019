package org.influence4j.backend.pytorch;

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
 * The {@code djl-pytorch} backend: {@link PtTensorScope scopes} over DJL {@code NDManager}s and
 * {@link PtModel models} whose derivatives come from libtorch autograd. One instance per JVM,
 * obtained from {@link PtBackendProvider#create()} (or {@link PtBackendProvider#backend()}).
 *
 * <p>Capabilities: {@code FLOAT64}, {@code EXACT_HVP} (autograd through an explicit backward pass,
 * see {@link PtModel}), {@code BATCHED_PER_SAMPLE_GRADIENTS}, {@code DENSE_LAYER_FACTORS},
 * {@code MIXED_DERIVATIVES}. Models are not thread-safe
 * (no {@code THREAD_SAFE_MODELS}); the backend itself is: scopes and models may be created from any
 * thread.
 */
public final class PtBackend implements Backend {

    private static final Set<BackendCapability> CAPABILITIES = Collections.unmodifiableSet(EnumSet.of(
            BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
            BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
            BackendCapability.MIXED_DERIVATIVES));

    private final Engine engine;
    private final String version;

    PtBackend(Engine engine) {
        this.engine = engine;
        this.version = "DJL " + Engine.getDjlVersion() + " / PyTorch " + engine.getVersion();
    }

    @Override
    public String name() {
        return PtBackendProvider.NAME;
    }

    /** @return e.g. {@code DJL 0.35.1 / PyTorch 2.7.1}, read from the loaded engine */
    @Override
    public String version() {
        return version;
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public PtTensorScope newScope() {
        return new PtTensorScope(this, engine.newBaseManager());
    }

    /**
     * Builds a {@link PtModel}.
     *
     * @throws IllegalArgumentException if the spec is null, or the parameters have the wrong length or a NaN/Inf
     */
    @Override
    public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: must not be null");
        }
        return new PtModel(this, spec, parameters);
    }

    /** @return the DJL engine behind this backend */
    Engine engine() {
        return engine;
    }

    /** @return the scope behind {@code scope}, checking that it belongs to this backend */
    PtTensorScope requireScope(TensorScope scope, String argument) {
        if (!(scope instanceof PtTensorScope pt)) {
            throw new IllegalArgumentException(argument + ": expected a djl-pytorch scope (from PtBackend.newScope()),"
                    + " got " + (scope == null ? "null" : scope.getClass().getName()));
        }
        return pt;
    }

    @Override
    public String toString() {
        return "PtBackend[" + version + "]";
    }
}
