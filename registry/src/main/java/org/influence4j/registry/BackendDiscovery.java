package org.influence4j.registry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.registry.plugins.BackendPlugin;
import org.influence4j.registry.plugins.BackendPlugins;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link BackendProvider backend providers} found through
 * {@code META-INF/services/org.influence4j.api.BackendProvider}, on the class path and in backend
 * plugins (see {@link org.influence4j.registry.plugins}), and the backends they create.
 *
 * <p><b>Contract.</b>
 * <ul>
 *   <li>Providers are listed by ascending {@link BackendProvider#rank() rank} (lower wins), then by
 *       name. A broken service entry ({@link java.util.ServiceConfigurationError}) is logged and
 *       skipped. When two providers share a name, the one with the lower rank is kept and the other
 *       is logged and ignored; at equal rank the one found first is kept (class path before plugins,
 *       plugins in the order of their folders).</li>
 *   <li>A plugin's provider is called with the plugin's class loader as the thread's context class
 *       loader; a plugin folder without a provider is logged with one warning.</li>
 *   <li>{@link BackendProvider#isAvailable()} is asked once per provider, when first needed; a
 *       provider whose check throws counts as unavailable.</li>
 *   <li>Backends are created lazily, at most once per provider, on the first
 *       {@link #backend(String)}, {@link #require(String)} or {@link #best()} call, and then shared.
 *       A provider whose {@link BackendProvider#create()} throws (typically: its native library
 *       cannot be loaded) is logged with <em>one</em> warning line, remembered as failed (the
 *       failure is not retried) and skipped; discovery itself never fails because of it.</li>
 * </ul>
 * Instances are thread-safe.
 */
public final class BackendDiscovery {

    private static final Logger LOG = LoggerFactory.getLogger(BackendDiscovery.class);

    private final List<BackendProvider> providers;
    private final Map<String, BackendProvider> byName;
    private final ConcurrentHashMap<String, Outcome> outcomes = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> availability = new ConcurrentHashMap<>();

    /** The result of one {@link BackendProvider#create()} call: a backend or a failure reason. */
    private record Outcome(Backend backend, String failure) {
    }

    /**
     * @param providers the providers to manage (e.g. from a test); {@code null} elements are an error
     * @throws IllegalArgumentException if {@code providers} or one of them (or its name) is null
     */
    public BackendDiscovery(Iterable<? extends BackendProvider> providers) {
        if (providers == null) {
            throw new IllegalArgumentException("providers must not be null");
        }
        List<BackendProvider> sorted = new ArrayList<>();
        for (BackendProvider p : providers) {
            if (p == null || p.name() == null || p.name().isBlank()) {
                throw new IllegalArgumentException("providers: every BackendProvider needs a non-blank name, got "
                        + (p == null ? "null" : describe(p)));
            }
            sorted.add(p);
        }
        sorted.sort(Comparator.comparingInt(BackendProvider::rank).thenComparing(BackendProvider::name));
        Map<String, BackendProvider> names = new LinkedHashMap<>();
        for (BackendProvider p : sorted) {
            BackendProvider previous = names.putIfAbsent(p.name(), p);
            if (previous != null) {
                LOG.warn("Backend provider {} is ignored: the name '{}' is already taken by {} (rank {})",
                        describe(p), p.name(), describe(previous), previous.rank());
            }
        }
        this.byName = Map.copyOf(names);
        this.providers = List.copyOf(names.values());
    }

    /**
     * Discovers the providers visible to {@code loader} and those of the backend plugins in the
     * folders named by the system property {@value BackendPlugins#PROPERTY} (none when it is unset).
     *
     * @param loader the class loader whose {@code META-INF/services} files are read; {@code null}
     *               means the thread's context class loader (or this library's)
     * @throws IllegalArgumentException naming the property if it holds an invalid path
     */
    public static BackendDiscovery load(ClassLoader loader) {
        return load(loader, BackendPlugins.configuredFolders());
    }

    /**
     * Discovers the providers visible to {@code loader} and those of the backend plugins in
     * {@code backendsFolders} (each a folder of plugin folders; see {@link BackendPlugins#find}).
     *
     * @param loader          the class loader whose {@code META-INF/services} files are read;
     *                        {@code null} means the thread's context class loader (or this library's)
     * @param backendsFolders folders of backend plugins; may be empty
     * @throws IllegalArgumentException if {@code backendsFolders} is null or holds null
     */
    public static BackendDiscovery load(ClassLoader loader, List<Path> backendsFolders) {
        List<BackendProvider> found = new ArrayList<>(ServiceProviders.load(BackendProvider.class, loader));
        for (BackendPlugin plugin : BackendPlugins.find(backendsFolders)) {
            List<BackendProvider> inPlugin =
                    plugin.call(() -> ServiceProviders.load(BackendProvider.class, plugin.classLoader()));
            if (inPlugin.isEmpty()) {
                LOG.warn("Backend plugin folder {} holds no META-INF/services/{} entry: no backend from it",
                        plugin.folder(), BackendProvider.class.getName());
            }
            for (BackendProvider p : inPlugin) {
                found.add(new PluginBackendProvider(p, plugin));
            }
        }
        BackendDiscovery discovery = new BackendDiscovery(found);
        LOG.debug("Discovered backend providers: {}", discovery.names());
        return discovery;
    }

    /** @return {@link #load(ClassLoader)} with the default class loader */
    public static BackendDiscovery load() {
        return load(null);
    }

    /** @return every discovered provider, by ascending rank then name (unmodifiable) */
    public List<BackendProvider> providers() {
        return providers;
    }

    /** @return the names of every discovered provider, by ascending rank then name */
    public List<String> names() {
        return providers.stream().map(BackendProvider::name).toList();
    }

    /** @return the provider named {@code name}, if one was discovered */
    public Optional<BackendProvider> provider(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(byName.get(name.trim()));
    }

    /**
     * @return the plugin folder the named provider was found in; empty for a provider of the class
     *     path or an unknown name
     */
    public Optional<Path> pluginFolder(String name) {
        return provider(name).filter(PluginBackendProvider.class::isInstance)
                .map(p -> ((PluginBackendProvider) p).plugin().folder());
    }

    /**
     * @return the providers whose {@link BackendProvider#isAvailable()} is true, by ascending rank;
     *     no native code is loaded
     */
    public List<BackendProvider> availableProviders() {
        return providers.stream().filter(this::isAvailable).toList();
    }

    /**
     * Creates (once) the backend named {@code name}.
     *
     * @return the backend, or empty if no such provider exists, it is not available, or its
     *     {@code create()} failed (then logged once; see {@link #failure(String)})
     */
    public Optional<Backend> backend(String name) {
        Optional<BackendProvider> provider = provider(name);
        if (provider.isEmpty() || !isAvailable(provider.get())) {
            return Optional.empty();
        }
        return Optional.ofNullable(outcome(provider.get()).backend());
    }

    /** @return why creating the named backend failed, if it was tried and failed */
    public Optional<String> failure(String name) {
        Outcome o = name == null ? null : outcomes.get(name.trim());
        return o == null ? Optional.empty() : Optional.ofNullable(o.failure());
    }

    /**
     * @return the backend of the best-ranked available provider whose {@code create()} succeeds;
     *     empty if none does
     */
    public Optional<Backend> best() {
        for (BackendProvider p : availableProviders()) {
            Backend b = outcome(p).backend();
            if (b != null) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    /**
     * The backend named {@code name}, or the best one when {@code name} is null or blank.
     *
     * @throws IllegalArgumentException if no provider of that name was discovered (the message lists
     *     the discovered ones)
     * @throws IllegalStateException if the provider is unavailable or failed to create its backend,
     *     or (for a blank name) if no backend could be created; the message says why
     */
    public Backend require(String name) {
        if (name == null || name.isBlank()) {
            return best().orElseThrow(() -> new IllegalStateException(
                    "No influence4j backend could be created. Add a backend module (e.g. "
                            + "influence4j-backend-djl-pytorch) to the class path, or point -D" + BackendPlugins.PROPERTY
                            + " at a folder of backend plugins; discovered backends: "
                            + describeAll()));
        }
        String key = name.trim();
        BackendProvider provider = byName.get(key);
        if (provider == null) {
            throw new IllegalArgumentException("influence.backend: unknown backend '" + key
                    + "'; discovered backends: " + describeAll());
        }
        if (!isAvailable(provider)) {
            throw new IllegalStateException("Backend '" + key + "' is not available (its provider "
                    + describe(provider) + " reports isAvailable() = false); discovered backends: "
                    + describeAll());
        }
        Outcome o = outcome(provider);
        if (o.backend() == null) {
            throw new IllegalStateException("Backend '" + key + "' could not be created: " + o.failure()
                    + "; discovered backends: " + describeAll());
        }
        return o.backend();
    }

    /**
     * @return one line per provider state, e.g. {@code [djl-pytorch (rank 0, available),
     *     nd4j (rank 20, unavailable)]}; creates no backend
     */
    public String describeAll() {
        if (providers.isEmpty()) {
            return "[] (no BackendProvider found in META-INF/services)";
        }
        return providers.stream().map(p -> {
            Outcome o = outcomes.get(p.name());
            String state;
            if (o != null && o.failure() != null) {
                state = "failed: " + o.failure();
            } else if (o != null) {
                state = "created";
            } else {
                state = isAvailable(p) ? "available" : "unavailable";
            }
            return p.name() + " (rank " + p.rank() + ", " + state + ")";
        }).collect(Collectors.joining(", ", "[", "]"));
    }

    private Outcome outcome(BackendProvider provider) {
        return outcomes.computeIfAbsent(provider.name(), n -> create(provider));
    }

    private static Outcome create(BackendProvider provider) {
        try {
            Backend b = provider.create();
            if (b == null) {
                String reason = describe(provider) + ".create() returned null";
                LOG.warn("Backend '{}' is skipped: {}", provider.name(), reason);
                return new Outcome(null, reason);
            }
            LOG.debug("Created backend '{}' ({})", provider.name(), b.version());
            return new Outcome(b, null);
        } catch (RuntimeException | LinkageError e) {
            String reason = ServiceProviders.describe(e);
            LOG.warn("Backend '{}' ({}) is skipped: create() failed: {}",
                    provider.name(), describe(provider), reason);
            LOG.debug("Backend creation failure", e);
            return new Outcome(null, reason);
        }
    }

    private boolean isAvailable(BackendProvider p) {
        return availability.computeIfAbsent(p.name(), n -> checkAvailable(p));
    }

    private static boolean checkAvailable(BackendProvider p) {
        try {
            boolean available = p.isAvailable();
            if (!available) {
                LOG.debug("Backend '{}' reports isAvailable() = false", p.name());
            }
            return available;
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("Backend '{}' ({}) is treated as unavailable: isAvailable() threw {}",
                    p.name(), describe(p), ServiceProviders.describe(e));
            return false;
        }
    }

    /** @return the provider's class name, and the plugin folder it came from, if any */
    private static String describe(BackendProvider p) {
        return p instanceof PluginBackendProvider plugged ? plugged.toString() : p.getClass().getName();
    }

    @Override
    public String toString() {
        return "BackendDiscovery" + describeAll();
    }
}
