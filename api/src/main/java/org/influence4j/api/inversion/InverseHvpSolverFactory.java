package org.influence4j.api.inversion;

import java.util.List;

/**
 * Creates configured {@link InverseHvpSolver solvers} of one method. Factories are discovered
 * through {@code META-INF/services/org.influence4j.api.inversion.InverseHvpSolverFactory} and
 * registered in an {@link InversionRegistry} under ({@link #modelType()}, {@link #method()}).
 *
 * <p>A factory may add a method: its {@link #method()} may be any {@link InversionMethod#of name},
 * not only a built-in one, and that name then works wherever a method is configured
 * ({@code influence.inversion.method}, the command line's {@code --method}).
 */
public interface InverseHvpSolverFactory {

    /** @return the method the solvers implement (a built-in constant or {@link InversionMethod#of}) */
    InversionMethod method();

    /**
     * @return the model type this factory is specialised for: a backend name such as
     *     {@code djl-pytorch}, or {@link InversionRegistry#GENERIC} for every model
     */
    default String modelType() {
        return InversionRegistry.GENERIC;
    }

    /**
     * The settings {@link #create} accepts, declared once: short key (configured as
     * {@code influence.inversion.<method>.<key>}), type, default and documentation. {@link #create}
     * must accept exactly these keys and use these defaults for missing ones; influence4j's
     * configuration documentation is tested against the declarations of its own factories.
     *
     * @return the declarations, in documentation order; empty (the default) for a method without settings
     */
    default List<Setting<?>> settings() {
        return List.of();
    }

    /**
     * @param settings short-keyed settings; unknown keys are an error
     * @throws IllegalArgumentException naming a bad or unknown setting
     */
    InverseHvpSolver create(SolverSettings settings);
}
