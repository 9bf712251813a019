package org.influence4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j influences}: the influence matrix {@code [m, n]} of every training point on
 * every test point, written as {@code .npy} or {@code .csv}; the same numbers as
 * {@link org.influence4j.api.influence.InfluenceFunctionModel#influences} with the configured
 * method, λ and batch size.
 */
@Command(name = "influences", description = "Influence of every training point on every test point, [m, n] (.npy or .csv).")
final class InfluencesCommand implements Callable<Integer> {

    @Mixin
    ModelInput input;

    @Mixin
    CommonOptions common;

    @Option(names = "--test", required = true, description = "Test data CSV.")
    Path test;

    @Option(names = "--lambda", description = "Hessian regularization λ (default: influence.hessian.regularization).")
    Double lambda;

    @Option(names = {"-o", "--output"}, required = true, description = "Output file: .npy or .csv.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        InfluenceQuery.Data data = InfluenceQuery.read(input, test);
        BackendOptions.Session session = common.session(lambda);
        try (TwiceDifferentiable model = input.open(session.backend(), data.spec(), data.train().numFeatures())) {
            double[] values = InfluenceQuery.influences(session, model, data.train(), data.test(),
                    spec.commandLine().getErr());
            Output.write(output, values, new long[] {data.test().size(), data.train().size()}, model.spec().dtype());
        }
        spec.commandLine().getOut().printf("wrote influences [%d, %d] to %s%n", data.test().size(), data.train().size(),
                output);
        return 0;
    }
}
