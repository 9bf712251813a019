package org.influence4j.registry;

import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standard {@link InversionRegistry}, with the semantics of pyDVL's
 * {@code InversionRegistry}:
 * <ul>
 *   <li>factories are keyed by ({@link InverseHvpSolverFactory#modelType() model type},
 *       {@link InverseHvpSolverFactory#method() method}), where the method may be any name (a
 *       plugin's factory adds its method by registering it); the model type is a backend name such as
 *       {@code djl-pytorch} or {@link InversionRegistry#GENERIC} ({@code "*"}) for every model;</li>
 *   <li>{@link #factory} first tries the exact model type, then {@link InversionRegistry#GENERIC}:
 *       a backend-specific factory wins over a generic one;</li>
 *   <li>registering a taken key throws {@link IllegalStateException} unless {@code overwrite} is
 *       true, in which case the old factory is replaced and the replacement is logged (pyDVL only
 *       warns and replaces; influence4j makes the silent case an error);</li>
 *   <li>a lookup that finds nothing throws {@link IllegalArgumentException} listing every
 *       registered key.</li>
 * </ul>
 * Instances are thread-safe: registration of one key is atomic and lookups may run concurrently.
 */
public final class DefaultInversionRegistry implements InversionRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(DefaultInversionRegistry.class);

    private static final Comparator<Key> KEY_ORDER = Comparator
            .comparing((Key k) -> !GENERIC.equals(k.modelType()))
            .thenComparing(Key::modelType)
            .thenComparing(Key::method);

    private final ConcurrentHashMap<Key, InverseHvpSolverFactory> factories = new ConcurrentHashMap<>();

    /** Creates an empty registry. */
    public DefaultInversionRegistry() {
    }

    /**
     * Creates a registry holding every {@link InverseHvpSolverFactory} listed in
     * {@code META-INF/services/org.influence4j.api.inversion.InverseHvpSolverFactory} files visible
     * to {@code loader}. Broken service entries are logged and skipped.
     *
     * @param loader the class loader to search; {@code null} means the thread's context class
     *               loader (or this library's)
     * @throws IllegalStateException if two discovered factories claim the same key (the message
     *     names both classes; remove one of the jars or register explicitly with overwrite)
     */
    public static DefaultInversionRegistry fromServiceLoader(ClassLoader loader) {
        DefaultInversionRegistry registry = new DefaultInversionRegistry();
        for (InverseHvpSolverFactory f : discoverFactories(loader)) {
            registry.register(f, false);
        }
        LOG.debug("Inversion registry from META-INF/services: {}", registry.sortedKeys());
        return registry;
    }

    /**
     * @param loader the class loader to search; {@code null} means the default one
     * @return every solver factory listed in {@code META-INF/services} files visible to
     *     {@code loader}, in discovery order; broken entries are logged and skipped
     */
    public static List<InverseHvpSolverFactory> discoverFactories(ClassLoader loader) {
        return ServiceProviders.load(InverseHvpSolverFactory.class, loader);
    }

    @Override
    public void register(InverseHvpSolverFactory factory, boolean overwrite) {
        Key key = keyOf(factory);
        if (overwrite) {
            InverseHvpSolverFactory previous = factories.put(key, factory);
            if (previous != null && previous != factory) {
                LOG.info("Inversion registry: {} replaced {} for key {}", factory.getClass().getName(),
                        previous.getClass().getName(), key);
            }
            return;
        }
        InverseHvpSolverFactory previous = factories.putIfAbsent(key, factory);
        if (previous != null) {
            throw new IllegalStateException("Inversion registry: key " + key + " is already taken by "
                    + previous.getClass().getName() + "; cannot register " + factory.getClass().getName()
                    + ". Register it with overwrite = true to replace the existing factory.");
        }
    }

    @Override
    public InverseHvpSolverFactory factory(String modelType, InversionMethod method) {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null; use one of the registered (model type,"
                    + " method) keys " + sortedKeys());
        }
        String type = modelType == null || modelType.isBlank() ? GENERIC : modelType.trim();
        InverseHvpSolverFactory f = factories.get(new Key(type, method));
        if (f == null && !GENERIC.equals(type)) {
            f = factories.get(new Key(GENERIC, method));
        }
        if (f == null) {
            throw new IllegalArgumentException("No inverse-HVP solver registered for inversion method '"
                    + method.configName() + "' and model type '" + type + "'"
                    + (GENERIC.equals(type) ? "" : " (nor generic '" + GENERIC + "')")
                    + "; registered (model type, method) keys: " + sortedKeys()
                    + ". Choose a registered method (influence.inversion.method) or put the jar whose"
                    + " META-INF/services/" + InverseHvpSolverFactory.class.getName() + " provides it on the class"
                    + " path.");
        }
        return f;
    }

    @Override
    public Set<Key> keys() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(sortedKeys()));
    }

    /** @return the factories by key, generic keys first (an unmodifiable snapshot) */
    public Map<Key, InverseHvpSolverFactory> snapshot() {
        Map<Key, InverseHvpSolverFactory> copy = new LinkedHashMap<>();
        for (Key k : sortedKeys()) {
            InverseHvpSolverFactory f = factories.get(k);
            if (f != null) {
                copy.put(k, f);
            }
        }
        return Collections.unmodifiableMap(copy);
    }

    private List<Key> sortedKeys() {
        return factories.keySet().stream().sorted(KEY_ORDER).toList();
    }

    private static Key keyOf(InverseHvpSolverFactory factory) {
        if (factory == null) {
            throw new IllegalArgumentException("factory must not be null");
        }
        InversionMethod method = factory.method();
        if (method == null) {
            throw new IllegalArgumentException("factory " + factory.getClass().getName()
                    + " returns a null method(); return a built-in InversionMethod or InversionMethod.of(\"name\")");
        }
        String type = factory.modelType();
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("factory " + factory.getClass().getName()
                    + " returns a blank modelType(); return a backend name or InversionRegistry.GENERIC");
        }
        return new Key(type.trim(), method);
    }

    @Override
    public String toString() {
        return "DefaultInversionRegistry" + sortedKeys();
    }
}
