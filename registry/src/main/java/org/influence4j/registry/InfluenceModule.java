package org.influence4j.registry;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.configuration2.ImmutableConfiguration;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guice wiring of influence4j: {@code Guice.createInjector(new InfluenceModule(config))}.
 *
 * <p>Bindings:
 * <ul>
 *   <li>{@link InfluenceSettings} — the validated settings (from the configuration given);</li>
 *   <li>{@link BackendDiscovery} — the backend providers found through {@code META-INF/services};</li>
 *   <li>{@code Map<String, BackendProvider>} — a {@link MapBinder} of every discovered provider by
 *       name (available or not; creating a backend is up to the caller);</li>
 *   <li>{@link Backend} — an {@link OptionalBinder} whose default is the configured
 *       {@code influence.backend}, or the best-ranked backend that can be created when none is
 *       configured; a user module may replace it with {@code OptionalBinder.setBinding()}. Created
 *       lazily (on first injection), once. An unknown name fails listing the discovered backends;</li>
 *   <li>{@link InversionRegistry} — a singleton {@link DefaultInversionRegistry} filled from
 *       {@code META-INF/services} (of the class loader given, else of the context class loader when
 *       the injector is created), whose factories may add methods, then from every {@link InverseHvpSolverFactory} that user modules
 *       add with {@code Multibinder.newSetBinder(binder(), InverseHvpSolverFactory.class)}: a
 *       Guice-bound factory replaces a built-in one with the same (model type, method) key
 *       ({@code overwrite = true}); two Guice-bound factories with the same key are an error;</li>
 *   <li>{@link InfluenceModelFactory} — a singleton that builds influence models with the configured
 *       method, λ and batch size.</li>
 * </ul>
 * Discovery runs when the injector is created (in {@link #configure()}); no backend is created
 * before a {@link Backend} is injected.
 */
public final class InfluenceModule extends AbstractModule {

    private static final Logger LOG = LoggerFactory.getLogger(InfluenceModule.class);

    private final InfluenceSettings settings;
    private final ClassLoader classLoader;

    /** Settings from {@link InfluenceConfiguration#load()}. */
    public InfluenceModule() {
        this(InfluenceSettings.from(InfluenceConfiguration.load()));
    }

    /**
     * @param configuration e.g. from {@link InfluenceConfiguration#load}; read once, here
     * @throws IllegalArgumentException naming the key of an invalid value
     */
    public InfluenceModule(ImmutableConfiguration configuration) {
        this(InfluenceSettings.from(configuration));
    }

    /** @param settings the settings to bind */
    public InfluenceModule(InfluenceSettings settings) {
        this(settings, null);
    }

    /**
     * @param settings    the settings to bind
     * @param classLoader where {@code META-INF/services} files are read; {@code null} means the
     *                    thread's context class loader (or this library's)
     */
    public InfluenceModule(InfluenceSettings settings, ClassLoader classLoader) {
        if (settings == null) {
            throw new IllegalArgumentException("settings must not be null; use InfluenceSettings.from(config)");
        }
        this.settings = settings;
        this.classLoader = classLoader;
    }

    /**
     * The Guice modules named by {@value ConfigKeys#GUICE_MODULES}, to be installed beside this module
     * (e.g. {@code Guice.createInjector(Modules.combine(new InfluenceModule(settings), extra))}).
     *
     * @param configuration the configuration to read the key from
     * @param classLoader   where the classes are looked up; {@code null} means the thread's context
     *                      class loader (or this library's)
     * @return one new instance per listed class, in order; empty when the key is unset or blank
     * @throws IllegalArgumentException naming the key and the class when a class is missing, is not a
     *     {@link Module}, has no public no-argument constructor, or its constructor fails
     */
    public static List<Module> configuredModules(ImmutableConfiguration configuration, ClassLoader classLoader) {
        if (configuration == null) {
            throw new IllegalArgumentException("configuration must not be null");
        }
        ClassLoader cl = classLoader != null ? classLoader : ServiceProviders.defaultClassLoader();
        List<Module> modules = new ArrayList<>();
        for (String name : configuration.getList(String.class, ConfigKeys.GUICE_MODULES, List.of())) {
            for (String className : name.split(",")) {
                if (!className.isBlank()) {
                    modules.add(instantiate(className.trim(), cl));
                }
            }
        }
        return modules;
    }

    private static Module instantiate(String className, ClassLoader cl) {
        String key = ConfigKeys.GUICE_MODULES + ": ";
        Class<?> type;
        try {
            type = Class.forName(className, true, cl);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException(key + "class " + className + " is not on the class path; add its"
                    + " jar (for the influence4j distribution: to lib/)", e);
        }
        if (!Module.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(key + "class " + className + " is not a Guice module; it must"
                    + " implement com.google.inject.Module (e.g. extend AbstractModule)");
        }
        try {
            return (Module) type.getConstructor().newInstance();
        } catch (NoSuchMethodException | IllegalAccessException | InstantiationException e) {
            throw new IllegalArgumentException(key + "class " + className + " needs a public no-argument"
                    + " constructor (and must be a public, concrete class)", e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException(key + "the constructor of " + className + " failed: "
                    + ServiceProviders.describe(e.getCause()), e.getCause());
        }
    }

    @Override
    protected void configure() {
        bind(InfluenceSettings.class).toInstance(settings);

        BackendDiscovery discovery = BackendDiscovery.load(classLoader);
        bind(BackendDiscovery.class).toInstance(discovery);

        MapBinder<String, BackendProvider> providers =
                MapBinder.newMapBinder(binder(), String.class, BackendProvider.class);
        for (BackendProvider p : discovery.providers()) {
            providers.addBinding(p.name()).toInstance(p);
        }

        OptionalBinder.newOptionalBinder(binder(), Backend.class)
                .setDefault().toProvider(ConfiguredBackendProvider.class).in(Singleton.class);

        Multibinder.newSetBinder(binder(), InverseHvpSolverFactory.class);
        // the class loader is fixed now, with the injector, as for the backends (a later context loader is ignored)
        ClassLoader solverLoader = classLoader != null ? classLoader : ServiceProviders.defaultClassLoader();
        bind(InversionRegistry.class).toProvider(new RegistryProvider(solverLoader)).in(Singleton.class);

        bind(InfluenceModelFactory.class).in(Singleton.class);
    }

    /** Provides the configured backend, or the best one when none is configured. */
    static final class ConfiguredBackendProvider implements Provider<Backend> {

        private final BackendDiscovery discovery;
        private final InfluenceSettings settings;

        @Inject
        ConfiguredBackendProvider(BackendDiscovery discovery, InfluenceSettings settings) {
            this.discovery = discovery;
            this.settings = settings;
        }

        @Override
        public Backend get() {
            Backend b = discovery.require(settings.backend());
            LOG.info("influence4j backend: {} ({})", b.name(), b.version());
            return b;
        }
    }

    /** Builds the registry: built-ins from {@code META-INF/services}, then Guice-bound overrides. */
    static final class RegistryProvider implements Provider<InversionRegistry> {

        private final ClassLoader classLoader;
        private Set<InverseHvpSolverFactory> userFactories = Set.of();

        RegistryProvider(ClassLoader classLoader) {
            this.classLoader = classLoader;
        }

        @Inject
        void setUserFactories(Set<InverseHvpSolverFactory> factories) {
            this.userFactories = Set.copyOf(factories);
        }

        @Override
        public InversionRegistry get() {
            DefaultInversionRegistry registry = DefaultInversionRegistry.fromServiceLoader(classLoader);
            Map<InversionRegistry.Key, InverseHvpSolverFactory> seen = new HashMap<>();
            for (InverseHvpSolverFactory f : userFactories) {
                InversionRegistry.Key key = new InversionRegistry.Key(
                        f.modelType() == null ? null : f.modelType().trim(), f.method());
                InverseHvpSolverFactory clash = seen.putIfAbsent(key, f);
                if (clash != null) {
                    throw new IllegalStateException("Two InverseHvpSolverFactory bindings in Guice modules claim key "
                            + key + ": " + clash.getClass().getName() + " and " + f.getClass().getName()
                            + "; bind only one of them");
                }
                registry.register(f, true);
            }
            LOG.debug("Inversion registry: {}", registry);
            return registry;
        }
    }
}
