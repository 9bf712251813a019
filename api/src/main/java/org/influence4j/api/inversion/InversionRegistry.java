package org.influence4j.api.inversion;

import java.util.Set;

/**
 * Solver factories keyed by (model type, {@link InversionMethod}), with pyDVL's semantics
 * (method names are open: a factory may register a name that is not built in):
 * a lookup first tries the exact model type (a backend name), then {@link #GENERIC};
 * registering a key twice is an error unless {@code overwrite} is requested; a missing key is an
 * error that lists what is registered. Implementations are thread-safe.
 */
public interface InversionRegistry {

    /** The model type of factories that work for every model. */
    String GENERIC = "*";

    /** A registry key. */
    record Key(String modelType, InversionMethod method) {
        @Override
        public String toString() {
            return "(" + modelType + ", " + method.configName() + ")";
        }
    }

    /**
     * Registers {@code factory} under ({@code factory.modelType()}, {@code factory.method()}).
     *
     * @throws IllegalStateException if the key is taken and {@code overwrite} is false
     */
    void register(InverseHvpSolverFactory factory, boolean overwrite);

    /**
     * @return the factory for the model type, else the generic one
     * @throws IllegalArgumentException listing the registered keys if neither exists
     */
    InverseHvpSolverFactory factory(String modelType, InversionMethod method);

    /** @return a solver created by {@link #factory} with {@code settings} */
    default InverseHvpSolver create(String modelType, InversionMethod method, SolverSettings settings) {
        return factory(modelType, method).create(settings);
    }

    /** @return the registered keys */
    Set<Key> keys();
}
