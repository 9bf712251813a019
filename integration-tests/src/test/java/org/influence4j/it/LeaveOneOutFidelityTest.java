package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.validation.LeaveOneOut;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fidelity against reality: for 5 test points, the 50 training points of largest |influence| are
 * removed one at a time and the model retrained (same 1/n scaling); predicted and actual changes
 * of the test loss must correlate (mean Pearson r ≥ 0.95). Runs on every available backend
 * ({@link AvailableBackends}), chosen by configuration through a Guice injector.
 */
class LeaveOneOutFidelityTest {

    private static final Logger LOG = LoggerFactory.getLogger(LeaveOneOutFidelityTest.class);

    @ParameterizedTest(name = "{0}")
    @MethodSource("org.influence4j.it.AvailableBackends#names")
    void influencesPredictLeaveOneOutRetraining(String backendName) {
        BreastCancerFixture data = new BreastCancerFixture(0);
        Backend backend = AvailableBackends.injector(backendName, InversionMethod.DIRECT, BreastCancerFixture.LAMBDA)
                .getInstance(Backend.class);
        ObjectiveOptions objective = ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA);
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()]);
             TensorScope scope = backend.newScope()) {
            new NewtonTrainer().train(model, new InMemoryDataSource(data.train), objective);
            Batch tests = data.test.slice(0, 5);
            double[] influences;
            try (DirectInfluence influence = new DirectInfluence(model, BreastCancerFixture.LAMBDA)) {
                influence.fit(new InMemoryDataSource(data.train));
                influences = influence.influences(tests, data.train, InfluenceMode.UP, scope).toDoubleArray();
            }
            int n = data.train.size();
            double[] r = new double[5];
            LeaveOneOut loo = new LeaveOneOut(objective);
            for (int t = 0; t < 5; t++) {
                LeaveOneOut.Comparison c = loo.compare(model, data.train, tests.slice(t, t + 1),
                        Arrays.copyOfRange(influences, t * n, (t + 1) * n), 50);
                r[t] = c.pearson();
                // independent check of the retraining: the actual change has the predicted sign for the largest one
                assertTrue(Math.signum(c.actual()[0]) == Math.signum(c.predicted()[0]),
                        "sign of the largest predicted change, test point " + t);
            }
            double mean = Arrays.stream(r).average().orElseThrow();
            LOG.info("{}: leave-one-out Pearson r per test point: {}; mean {}", backendName, Arrays.toString(r), mean);
            assertTrue(mean >= 0.95, backendName + ": mean Pearson r " + mean + " per point " + Arrays.toString(r));
        }
    }
}
