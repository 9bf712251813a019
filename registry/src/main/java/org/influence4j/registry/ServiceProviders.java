package org.influence4j.registry;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads every provider of a service through {@link ServiceLoader}, skipping broken entries
 * (a listed class that is missing, not a subtype, has no public no-argument constructor, or
 * whose constructor throws) with one warning each instead of failing the whole lookup.
 */
final class ServiceProviders {

    private static final Logger LOG = LoggerFactory.getLogger(ServiceProviders.class);

    /** Stops a lookup whose iterator keeps failing without advancing. */
    private static final int MAX_CONSECUTIVE_ERRORS = 1000;

    private ServiceProviders() {
    }

    /** @return the class loader to use when the caller gives none */
    static ClassLoader defaultClassLoader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : ServiceProviders.class.getClassLoader();
    }

    /**
     * @param service the service interface
     * @param loader  where {@code META-INF/services} files and provider classes are looked up;
     *                {@code null} means {@link #defaultClassLoader()}
     * @return the providers that could be instantiated, in service-file order
     */
    static <S> List<S> load(Class<S> service, ClassLoader loader) {
        ClassLoader cl = loader != null ? loader : defaultClassLoader();
        List<S> found = new ArrayList<>();
        Iterator<S> it = ServiceLoader.load(service, cl).iterator();
        int consecutiveErrors = 0;
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
            } catch (ServiceConfigurationError | LinkageError e) {
                LOG.warn("Stopped reading META-INF/services/{}: {}", service.getName(), describe(e));
                LOG.debug("Service lookup failure", e);
                break;
            }
            try {
                found.add(it.next());
                consecutiveErrors = 0;
            } catch (ServiceConfigurationError | LinkageError e) {
                LOG.warn("Skipped a broken entry of META-INF/services/{}: {}", service.getName(), describe(e));
                LOG.debug("Service entry failure", e);
                if (++consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) {
                    LOG.warn("Stopped reading META-INF/services/{} after {} consecutive broken entries",
                            service.getName(), consecutiveErrors);
                    break;
                }
            }
        }
        return found;
    }

    /** @return the message of {@code e} and of its innermost cause, on one line */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = oneLine(e);
        if (root != e) {
            message = message + " (cause: " + oneLine(root) + ")";
        }
        return message;
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        String text = t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
        return text.replace('\n', ' ').replace('\r', ' ');
    }
}
