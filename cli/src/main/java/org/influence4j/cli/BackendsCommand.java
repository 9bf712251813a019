package org.influence4j.cli;

import java.io.PrintWriter;
import java.util.stream.Collectors;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.registry.BackendDiscovery;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Lists the backends found on the class path, with their availability, version and capabilities. */
@Command(name = "backends", description = "List the discovered backends with their capabilities and versions.")
final class BackendsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        BackendDiscovery discovery = BackendDiscovery.load();
        for (BackendProvider provider : discovery.providers()) {
            String line;
            if (!provider.isAvailable()) {
                line = "not available";
            } else {
                Backend backend = discovery.backend(provider.name()).orElse(null);
                line = backend == null
                        ? "failed to load: " + discovery.failure(provider.name()).orElse("unknown reason")
                        : backend.version() + "  capabilities: " + backend.capabilities().stream()
                                .map(Enum::name).sorted().collect(Collectors.joining(", "));
            }
            out.printf("%-12s rank %d  %s%n", provider.name(), provider.rank(), line);
        }
    }
}
