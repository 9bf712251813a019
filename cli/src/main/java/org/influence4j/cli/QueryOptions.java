package org.influence4j.cli;

import java.io.IOException;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of an influence query of a model on training and test data — the model and data
 * ({@link ModelInput}), backend, method and curvature ({@link InversionOptions}), {@code --test} (with
 * {@code --test-labels} for array data) and {@code --lambda} — shared by {@code influences},
 * {@code top-k} and {@code compare}.
 */
final class QueryOptions {

    @Mixin
    ModelInput input;

    @Mixin
    InversionOptions common;

    @Option(names = "--test", required = true, description = "Test data: a CSV file, or array features as for"
            + " --train with --test-labels.")
    String test;

    @Option(names = "--test-labels", description = "Labels of array --test features, as --train-labels.")
    String testLabels;

    @Option(names = "--lambda", description = "Regularization λ added to the curvature (default:"
            + " influence.hessian.regularization).")
    Double lambda;

    /** @return the spec, parameters, training and test data, checked against each other */
    InfluenceQuery.Data read() throws IOException {
        return InfluenceQuery.read(input, test, testLabels);
    }

    /** @return the backend, settings and influence-model factory of {@link InversionOptions} with {@code --lambda} */
    BackendOptions.Session session() {
        return common.session(lambda);
    }

    /**
     * @return the identity of {@code command} with this query's model, data (training and test) and
     *     inversion settings ({@link RunRecords})
     */
    Provenance record(String command, BackendOptions.Session session, InfluenceQuery.Data data) throws IOException {
        return RunRecords.inversion(RunRecords.data(RunRecords.of(command, session, input, data.spec()), "test", test,
                testLabels), session.settings());
    }

    /** @return the model of {@code --spec}/{@code --parameters} or {@code --torchscript} on the session's backend */
    TwiceDifferentiable open(BackendOptions.Session session, InfluenceQuery.Data data) throws IOException {
        return InfluenceQuery.open(input, session, data);
    }
}
