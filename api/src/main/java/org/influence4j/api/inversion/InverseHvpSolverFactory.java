package org.influence4j.api.inversion;

/**
 * Creates configured {@link InverseHvpSolver solvers} of one method. Factories are discovered
 * through {@code META-INF/services/org.influence4j.api.inversion.InverseHvpSolverFactory} and
 * registered in an {@link InversionRegistry} under ({@link #modelType()}, {@link #method()}).
 */
public interface InverseHvpSolverFactory {

    /** @return the method the solvers implement */
    InversionMethod method();

    /**
     * @return the model type this factory is specialised for: a backend name such as
     *     {@code djl-pytorch}, or {@link InversionRegistry#GENERIC} for every model
     */
    default String modelType() {
        return InversionRegistry.GENERIC;
    }

    /**
     * @param settings short-keyed settings; unknown keys are an error
     * @throws IllegalArgumentException naming a bad or unknown setting
     */
    InverseHvpSolver create(SolverSettings settings);
}
