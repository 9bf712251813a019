package org.influence4j.registry;

import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.model.ModelSpec;

/** A backend with a name and no tensor engine: the registry tests only wire and look up backends. */
final class TestBackend implements Backend {

    private final String name;

    TestBackend(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String version() {
        return "test 1.0";
    }

    @Override
    public Set<BackendCapability> capabilities() {
        return Set.of();
    }

    @Override
    public TensorScope newScope() {
        throw new UnsupportedOperationException("the registry tests' backend has no tensor engine");
    }

    @Override
    public TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        throw new UnsupportedOperationException("the registry tests' backend has no tensor engine");
    }
}
