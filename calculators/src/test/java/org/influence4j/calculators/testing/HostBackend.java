package org.influence4j.calculators.testing;

import java.util.EnumSet;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;

/** The reference backend: tensors are Java arrays, models are {@link HostModel}s. */
public final class HostBackend implements Backend {

    /** The shared instance. */
    public static final HostBackend INSTANCE = new HostBackend();

    private HostBackend() {
    }

    @Override
    public String name() {
        return "host";
    }

    @Override
    public String version() {
        return "reference";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return EnumSet.of(BackendCapability.FLOAT64, BackendCapability.EXACT_HVP,
                BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS, BackendCapability.DENSE_LAYER_FACTORS,
                BackendCapability.MIXED_DERIVATIVES);
    }

    @Override
    public HostScope newScope() {
        return new HostScope(null);
    }

    @Override
    public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        return new HostModel(spec, parameters);
    }

    /** @return a new root scope (typed) */
    public static HostScope scope() {
        return INSTANCE.newScope();
    }

    /** Convenience for tests: a scope as the interface type. */
    public static TensorScope rootScope() {
        return INSTANCE.newScope();
    }
}
