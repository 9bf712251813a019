package org.influence4j.cli;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import com.google.inject.spi.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.commons.configuration2.CompositeConfiguration;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.ConfigKeys;
import org.influence4j.registry.InfluenceConfiguration;
import org.influence4j.registry.InfluenceModelFactory;
import org.influence4j.registry.InfluenceModule;
import org.influence4j.registry.InfluenceSettings;
import picocli.CommandLine.Option;

/**
 * Options shared by every computing subcommand: backend, batch size, threads, a configuration file
 * and {@code -D key=value} overrides ({@link CommonOptions} adds the inversion method,
 * {@link InversionOptions} also the curvature, for the influence-function commands). Precedence (highest first): the
 * command-line options, {@code -D}, the environment, the configuration file
 * ({@code --config}, else {@code -Dinfluence4j.config}, else {@code influence4j.properties}/YAML in
 * the working directory), the class-path defaults — the layers of {@link InfluenceConfiguration}.
 * The backend and the factory of influence models come from a Guice injector of
 * {@link InfluenceModule} plus the modules named by {@code influence.guice.modules}, so a module that
 * binds the {@link Backend} is honoured; otherwise the backend is resolved by name through
 * {@link BackendDiscovery} (class path and the backend plugins of {@code -Dinfluence4j.backends}) and
 * inversion methods through the inversion registry, so backends and solvers added later are usable
 * without changing the CLI.
 */
class BackendOptions {

    @Option(names = "--backend", description = "Backend name (see `influence4j backends`; default: influence.backend or the best available).")
    String backend;

    @Option(names = "--batch-size", description = "Samples per gradient / curvature-vector-product pass (default: influence.batch.size).")
    Integer batchSize;

    @Option(names = "--threads", description = "Native intra-op threads of the backend (djl-pytorch honours it); set before the backend loads."
            + " By default also how many TracIn checkpoints and kept curvature batches run at once (1: one at a time).")
    Integer threads;

    @Option(names = "--config", description = "An influence4j .properties or .yaml file.")
    Path config;

    @Option(names = "-D", mapFallbackValue = "", description = "Configuration override key=value, e.g. -Dinfluence.inversion.cg.rtol=1e-8.")
    Map<String, String> overrides = new LinkedHashMap<>();

    /** @return the inversion method named on the command line, or {@code null} for the configured one */
    String method() {
        return null;
    }

    /** @return the curvature named on the command line, or {@code null} for the configured one */
    String curvature() {
        return null;
    }

    /** @return whether {@code --allow-unconverged} was given (only the influence-function commands have it) */
    boolean allowUnconverged() {
        return false;
    }

    /** The resolved settings with the chosen backend and the factory of influence models. */
    record Session(InfluenceSettings settings, Backend backend, InfluenceModelFactory influenceModels) {
    }

    /**
     * Resolves the configuration, the backend and the inversion method.
     *
     * @param lambda the λ to use, or {@code null} for influence.hessian.regularization
     * @throws IllegalArgumentException naming the option or key of a bad value
     * @throws IllegalStateException if the backend cannot be created (the message says why)
     */
    Session session(Double lambda) {
        CompositeConfiguration configuration = configuration();
        InfluenceSettings settings = settings(configuration, lambda);
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads: must be >= 1, got " + threads);
            }
            System.setProperty(BackendProvider.THREADS_PROPERTY, Integer.toString(threads));
        }
        List<Module> modules = new ArrayList<>();
        modules.add(new InfluenceModule(settings));
        modules.addAll(InfluenceModule.configuredModules(configuration, null));
        try {
            Injector injector = Guice.createInjector(modules);
            Backend b = injector.getInstance(Backend.class);
            InfluenceModelFactory factory = injector.getInstance(InfluenceModelFactory.class);
            if (allowUnconverged() && factory.declaredSettings().getOrDefault(settings.method(), List.of()).stream()
                    .noneMatch(d -> d.key().equals(SolverSettings.ALLOW_UNCONVERGED))) {
                throw new IllegalArgumentException("--allow-unconverged: method '" + settings.method().configName()
                        + "' has no iteration that can stop unconverged (it declares no "
                        + SolverSettings.ALLOW_UNCONVERGED + " setting); drop the option or use --method cg, lissa"
                        + " or arnoldi");
            }
            factory.requireAvailable(b.name());
            return new Session(settings, b, factory);
        } catch (ProvisionException e) {
            throw unwrap(e.getErrorMessages(), e);
        } catch (CreationException e) {
            RuntimeException cause = unwrap(e.getErrorMessages(), e);
            if (cause != e) {
                throw cause;
            }
            String first = e.getErrorMessages().isEmpty() ? e.getMessage() : e.getErrorMessages().iterator().next().getMessage();
            throw new IllegalArgumentException(ConfigKeys.GUICE_MODULES + ": the Guice modules do not fit together with"
                    + " influence4j's: " + first, e);
        }
    }

    /** @return the first cause of a Guice failure, so that its one-line message is shown; else {@code e} */
    private static RuntimeException unwrap(java.util.Collection<Message> messages, RuntimeException e) {
        for (Message m : messages) {
            if (m.getCause() instanceof RuntimeException cause) {
                return cause;
            }
        }
        return e;
    }

    /** @return the validated settings with the command-line options applied */
    InfluenceSettings settings(Double lambda) {
        return settings(configuration(), lambda);
    }

    /**
     * @return the configuration layers: {@code -D} overrides and system properties, the environment,
     *     {@code --config} (or the default user file), the class-path defaults
     */
    private CompositeConfiguration configuration() {
        if (config != null && !Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--config: file " + config + " does not exist");
        }
        Properties system = new Properties();
        system.putAll(System.getProperties());
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!e.getKey().startsWith(ConfigKeys.PREFIX)) {
                throw new IllegalArgumentException("-D" + e.getKey() + ": not an influence4j key; keys start with "
                        + ConfigKeys.PREFIX);
            }
            system.setProperty(e.getKey(), e.getValue());
        }
        return InfluenceConfiguration.load(system, System.getenv(), config, Path.of(""));
    }

    private InfluenceSettings settings(CompositeConfiguration configuration, Double lambda) {
        InfluenceSettings s = InfluenceSettings.from(configuration);
        if (backend != null) {
            s = s.withBackend(backend);
        }
        if (method() != null) {
            try {
                s = s.withMethod(InversionMethod.parse(method()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--method: " + e.getMessage(), e);
            }
        }
        if (curvature() != null) {
            try {
                s = s.withCurvature(Curvature.parse(curvature()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--curvature: unknown value '" + curvature()
                        + "'; use " + Curvature.VALUES, e);
            }
        }
        if (lambda != null || batchSize != null) {
            if (batchSize != null && batchSize < 1) {
                throw new IllegalArgumentException("--batch-size: must be >= 1, got " + batchSize);
            }
            if (lambda != null && !(Double.isFinite(lambda) && lambda >= 0)) {
                throw new IllegalArgumentException("--lambda: must be a finite number >= 0, got " + lambda);
            }
            s = new InfluenceSettings(s.backend(), s.method(), lambda == null ? s.hessianRegularization() : lambda,
                    batchSize == null ? s.batchSize() : batchSize, s.solverSettings(), s.curvature());
        }
        if (allowUnconverged()) {
            s = s.withSolverSetting(s.method(), SolverSettings.ALLOW_UNCONVERGED, "true");
        }
        return s;
    }
}
