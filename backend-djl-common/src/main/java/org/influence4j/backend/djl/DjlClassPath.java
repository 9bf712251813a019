package org.influence4j.backend.djl;

import org.slf4j.Logger;

/**
 * The class-path checks the DJL backends' service providers share for
 * {@code BackendProvider.isAvailable()}: which class loader to look in, and whether the engine's
 * classes are there. Nothing here loads native code or initialises a class.
 */
public final class DjlClassPath {

    private DjlClassPath() {
    }

    /**
     * @param provider the provider class, whose loader is used when the thread has no context loader
     * @return the current thread's context class loader, or {@code provider}'s loader
     */
    public static ClassLoader loader(Class<?> provider) {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return cl != null ? cl : provider.getClassLoader();
    }

    /**
     * Whether every class named can be found by {@code loader} (without initialising it). The first
     * missing class is logged at debug level as {@code "<backend> unavailable: class <name> is not on
     * the class path"}.
     *
     * @param backend the backend's name for the log line, e.g. {@code djl-pytorch}
     * @param log     the provider's logger
     * @param classes fully qualified class names
     * @return true if all were found
     */
    public static boolean classesPresent(ClassLoader loader, String backend, Logger log, String... classes) {
        for (String cls : classes) {
            try {
                Class.forName(cls, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                log.debug("{} unavailable: class {} is not on the class path", backend, cls);
                return false;
            }
        }
        return true;
    }
}
