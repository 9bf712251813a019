package org.influence4j.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.registry.BackendDiscovery;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j compare}: the same influence query on several backends (by default every
 * available one that loads, from the class path and the backend plugin folders), printing each backend's wall time and its largest absolute and relative
 * differences from the first backend. Relative differences are {@code |a − b| / max|a|} over the
 * whole matrix (scale-aware, so tiny entries do not dominate).
 */
@Command(name = "compare", description = "The same influence query on several backends: time and largest differences.")
final class CompareCommand implements Callable<Integer> {

    @Mixin
    QueryOptions query;

    @Option(names = "--backends", split = ",", description = "Backends to compare, e.g. djl-pytorch,djl-tf,nd4j (default: every available backend that loads).")
    List<String> backends;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        InfluenceQuery.Data data = query.read();
        List<String> names = backends;
        if (names == null || names.isEmpty()) {
            names = new ArrayList<>();
            BackendDiscovery discovery = BackendDiscovery.load();
            for (var p : discovery.availableProviders()) {
                if (discovery.backend(p.name()).isPresent()) {
                    names.add(p.name());
                }
            }
            if (names.isEmpty()) {
                throw new IllegalStateException("compare: no backend could be loaded; see `influence4j backends`");
            }
        }
        double[] reference = null;
        String referenceName = null;
        out.printf("%-14s %10s %14s %14s%n", "backend", "seconds", "max |diff|", "max rel diff");
        for (String name : names) {
            query.common.backend = name;
            BackendOptions.Session session = query.session();
            long start = System.nanoTime();
            double[] values;
            try (TwiceDifferentiable model = query.open(session, data)) {
                // compare writes no result file, so it needs no record (and hashes no input once per backend)
                values = InfluenceQuery.influences(session, model, data.train(), data.test(), spec.commandLine().getErr(),
                        Provenance.empty()).value();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // the backend that ran: the one named, unless a Guice module (influence.guice.modules) binds another
            String ran = session.backend().name();
            if (reference == null) {
                reference = values;
                referenceName = ran;
                out.printf("%-14s %10.3f %14s %14s%n", ran, seconds, "(reference)", "");
                continue;
            }
            double maxAbs = 0;
            double scale = 0;
            for (int i = 0; i < values.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(values[i] - reference[i]));
                scale = Math.max(scale, Math.abs(reference[i]));
            }
            out.printf("%-14s %10.3f %14.3e %14.3e%n", ran, seconds, maxAbs, scale == 0 ? 0 : maxAbs / scale);
        }
        if (names.size() == 1) {
            out.printf("only %s was compared; add backends with --backends (see `influence4j backends`)%n", referenceName);
        }
        return 0;
    }
}
