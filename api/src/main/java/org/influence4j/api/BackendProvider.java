package org.influence4j.api;

/**
 * Service-provider interface for backends, registered in
 * {@code META-INF/services/org.influence4j.api.BackendProvider} (modelled on DJL's
 * {@code EngineProvider}).
 *
 * <p>{@link #isAvailable()} must be cheap and load no native code (e.g. check that classes and
 * native jars are on the class path); {@link #create()} may load natives and may fail, in which
 * case discovery logs one line and skips the backend.
 */
public interface BackendProvider {

    /**
     * System property with the number of native intra-op threads a backend should use, read when
     * the backend's native engine is first loaded in this JVM (later changes have no effect). A
     * provider that can size its engine's thread pool honours it and documents how; one that cannot
     * ignores it. Unset: the engine's default.
     */
    String THREADS_PROPERTY = "influence4j.backend.threads";

    /**
     * System property, {@code true} (unset: the default) or {@code false}: whether a backend whose
     * engine allocates its arrays with the C library's {@code malloc} may set that allocator to keep
     * freed blocks for reuse (on glibc: {@code mallopt} thresholds), read when the backend's engine
     * is first loaded in this JVM. The setting is process-wide; a provider that applies it documents
     * what it sets and leaves an allocator that the process's environment already tunes as it is.
     */
    String RETAIN_FREED_MEMORY_PROPERTY = "influence4j.backend.retainFreedMemory";

    /** @return the backend name, e.g. {@code djl-pytorch} */
    String name();

    /** @return the preference when no backend is configured: lower ranks win */
    int rank();

    /** @return whether {@link #create()} can be expected to work; loads no native code */
    boolean isAvailable();

    /**
     * Creates (or returns the shared) backend instance.
     *
     * @throws IllegalStateException if the native engine cannot be loaded (the message says why)
     */
    Backend create();
}
