package org.influence4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j self-influence}: {@code ⟨H⁻¹∇ℓ(z_i), ∇ℓ(z_i)⟩} for every training point,
 * shape {@code [n]}, H the regularized curvature of {@code --curvature} (the Hessian or the
 * Gauss-Newton matrix, plus λI); large values flag points the model finds hard to fit (often
 * mislabeled).
 */
@Command(name = "self-influence", description = "Self-influence of every training point, [n] (.npy or .csv); high = suspicious.")
final class SelfInfluenceCommand implements Callable<Integer> {

    @Mixin
    ModelInput input;

    @Mixin
    InversionOptions common;

    @Option(names = "--lambda", description = "Regularization λ added to the curvature (default:"
            + " influence.hessian.regularization).")
    Double lambda;

    @Option(names = {"-o", "--output"}, required = true, description = "Output file: .npy or .csv.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        InfluenceQuery.Data data = InfluenceQuery.read(input, null, null);
        BackendOptions.Session session = common.session(lambda);
        Provenance record = RunRecords.inversion(RunRecords.of("self-influence", session, input, data.spec()), session.settings());
        try (TwiceDifferentiable model = InfluenceQuery.open(input, session, data)) {
            InfluenceQuery.Computed<double[]> values = InfluenceQuery.selfInfluences(session, model, data.train(),
                    spec.commandLine().getErr(), record);
            Output.write(output, values.value(), new long[] {values.value().length}, model.spec().dtype(),
                    values.record());
        }
        spec.commandLine().getOut().printf("wrote self-influence [%d] to %s%n", data.train().size(), output);
        return 0;
    }
}
