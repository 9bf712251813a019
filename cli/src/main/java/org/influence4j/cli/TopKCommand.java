package org.influence4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.calculators.attribution.TopK;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j top-k}: for every test point its k strongest proponents (largest positive
 * influence) and/or opponents (most negative), as CSV rows {@code test,kind,rank,train,influence}
 * ({@code kind} = proponent | opponent, rank from 1; {@link Output#writeTopK}), streamed over training
 * chunks by the library ({@code TrainingDataAttribution#topK}). Ties are broken by the smaller
 * training index, as {@link TopK#ofMatrix}.
 */
@Command(name = "top-k", description = "The k strongest proponents and opponents of every test point (CSV).")
final class TopKCommand implements Callable<Integer> {

    @Mixin
    QueryOptions query;

    @Mixin
    TopKOptions topK;

    @Option(names = {"-o", "--output"}, required = true, description = "Output CSV file.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        topK.check(output);
        InfluenceQuery.Data data = query.read();
        int n = data.train().size();
        int m = data.test().size();
        topK.requireAtMost(n);
        BackendOptions.Session session = query.session();
        Provenance record = query.record("top-k", session, data).with("k", topK.k).with("orders", topK.describe());
        InfluenceQuery.Computed<List<TopK>> parts;
        try (TwiceDifferentiable model = query.open(session, data)) {
            parts = InfluenceQuery.topK(session, model, data.train(), data.test(), topK.k, topK.orders(),
                    spec.commandLine().getErr(), record);
        }
        Output.writeTopK(output, parts.value(), parts.record());
        spec.commandLine().getOut().printf("wrote the top %d %s of %d test points to %s%n", topK.k, topK.describe(), m,
                output);
        return 0;
    }
}
