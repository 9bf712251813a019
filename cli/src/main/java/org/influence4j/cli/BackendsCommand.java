package org.influence4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.plugins.BackendPlugins;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Lists the backends found on the class path and in the backend plugin folders
 * ({@code -Dinfluence4j.backends}), with their availability, version, capabilities and origin. Each
 * available backend is loaded (natives included) to report its version. Exits 1 when no backend is
 * found at all.
 */
@Command(name = "backends", description = "List the discovered backends with their capabilities and versions.")
final class BackendsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BackendDiscovery discovery = BackendDiscovery.load();
        if (discovery.providers().isEmpty()) {
            spec.commandLine().getErr().println("influence4j: no backend found: neither on the class path nor in the"
                    + " backend plugin folders " + BackendPlugins.configuredFolders() + "; run bin/influence4j, which"
                    + " sets -D" + BackendPlugins.PROPERTY);
            return 1;
        }
        for (BackendProvider provider : discovery.providers()) {
            String line;
            if (!discovery.availableProviders().contains(provider)) {
                line = "not available";
            } else {
                Backend backend = discovery.backend(provider.name()).orElse(null);
                line = backend == null
                        ? "failed to load: " + discovery.failure(provider.name()).orElse("unknown reason")
                        : backend.version() + "  capabilities: " + backend.capabilities().stream()
                                .map(Enum::name).sorted().collect(Collectors.joining(", "));
            }
            String origin = discovery.pluginFolder(provider.name()).map(Path::toString)
                    .map(folder -> "plugin " + folder).orElse("class path");
            out.printf("%-12s rank %d  %s  [%s]%n", provider.name(), provider.rank(), line, origin);
        }
        return 0;
    }
}
