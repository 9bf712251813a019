package org.influence4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.influence4j.api.TwiceDifferentiable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of an influence query of a model on training and test data — the model and data
 * ({@link ModelInput}), backend and method ({@link CommonOptions}), {@code --test} and
 * {@code --lambda} — shared by {@code influences}, {@code top-k} and {@code compare}.
 */
final class QueryOptions {

    @Mixin
    ModelInput input;

    @Mixin
    CommonOptions common;

    @Option(names = "--test", required = true, description = "Test data CSV.")
    Path test;

    @Option(names = "--lambda", description = "Hessian regularization λ (default: influence.hessian.regularization).")
    Double lambda;

    /** @return the spec, training and test data, checked against each other */
    InfluenceQuery.Data read() throws IOException {
        return InfluenceQuery.read(input, test);
    }

    /** @return the backend, settings and influence-model factory of {@link CommonOptions} with {@code --lambda} */
    BackendOptions.Session session() {
        return common.session(lambda);
    }

    /** @return the model of {@code --spec}/{@code --parameters} or {@code --torchscript} on the session's backend */
    TwiceDifferentiable open(BackendOptions.Session session, InfluenceQuery.Data data) throws IOException {
        return input.open(session.backend(), data.spec(), data.train().numFeatures());
    }
}
