package org.influence4j.backend.djl;

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
 * What the DJL-based backends share: the loaded {@link Engine}, the name, a version string read
 * from the engine, the capability set, the null check of {@link #createModel} and the check that a
 * scope belongs to this backend. Subclasses create their scopes and models.
 *
 * <p>Thread-safe: scopes and models may be created from any thread.
 *
 * @param <S> the backend's scope type
 */
public abstract class DjlBackend<S extends TensorScope> implements Backend {

    private final String name;
    private final Engine engine;
    private final String version;
    private final Set<BackendCapability> capabilities;
    private final Class<S> scopeType;

    /**
     * @param name         the backend name, e.g. {@code djl-pytorch}
     * @param engineLabel  the engine's name in {@link #version()}, e.g. {@code PyTorch}
     * @param engine       the loaded DJL engine
     * @param capabilities what the backend really provides
     * @param scopeType    the class of the scopes {@link #newScope()} returns
     */
    protected DjlBackend(String name, String engineLabel, Engine engine, Set<BackendCapability> capabilities,
                         Class<S> scopeType) {
        this.name = name;
        this.engine = engine;
        this.version = "DJL " + Engine.getDjlVersion() + " / " + engineLabel + " " + engine.getVersion();
        this.capabilities = Collections.unmodifiableSet(EnumSet.copyOf(capabilities));
        this.scopeType = scopeType;
    }

    @Override
    public final String name() {
        return name;
    }

    /** @return e.g. {@code DJL 0.35.1 / PyTorch 2.7.1}, read from the loaded engine */
    @Override
    public final String version() {
        return version;
    }

    @Override
    public final Set<BackendCapability> capabilities() {
        return capabilities;
    }

    @Override
    public abstract S newScope();

    /**
     * Builds the backend's model for {@code spec}.
     *
     * @throws IllegalArgumentException if the spec is null, or the parameters have the wrong length or a NaN/Inf
     */
    @Override
    public final TwiceDifferentiable createModel(ModelSpec spec, double[] parameters) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: must not be null");
        }
        return newModel(spec, parameters);
    }

    /** Builds the model once {@code spec} is known to be non-null. */
    protected abstract TwiceDifferentiable newModel(ModelSpec spec, double[] parameters);

    /** @return the DJL engine behind this backend */
    public final Engine engine() {
        return engine;
    }

    /**
     * @return {@code scope} as this backend's scope type
     * @throws IllegalArgumentException naming {@code argument} if it belongs to another backend or is null
     */
    public final S requireScope(TensorScope scope, String argument) {
        if (!scopeType.isInstance(scope)) {
            throw new IllegalArgumentException(argument + ": expected a " + name + " scope (from "
                    + getClass().getSimpleName() + ".newScope()), got "
                    + (scope == null ? "null" : scope.getClass().getName()));
        }
        return scopeType.cast(scope);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + version + "]";
    }
}
