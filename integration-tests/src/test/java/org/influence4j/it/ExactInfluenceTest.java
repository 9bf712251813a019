package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.influence.CgInfluence;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;
import org.junit.jupiter.api.Test;

/**
 * Direct influences on the PyTorch backend equal a closed-form plain-Java computation, and CG
 * agrees with Direct.
 */
class ExactInfluenceTest {

    @Test
    void directMatchesClosedFormAndCgMatchesDirect() {
        BreastCancerFixture data = new BreastCancerFixture(0);
        Backend backend = new PtBackendProvider().create();
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()]);
             TensorScope scope = backend.newScope()) {
            TrainingResult fit = new NewtonTrainer().train(model, new InMemoryDataSource(data.train),
                    ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA));
            assertTrue(fit.converged() && fit.gradientNorm() < 1e-8, fit.toString());

            double[] direct;
            try (DirectInfluence influence = new DirectInfluence(model, BreastCancerFixture.LAMBDA)) {
                influence.fit(new InMemoryDataSource(data.train));
                direct = influence.influences(data.test, data.train, InfluenceMode.UP, scope).toDoubleArray();
            }
            double[][] exact = new ClosedFormLogistic(data.train.x(), data.train.y(), 30)
                    .influences(model.parameters(), BreastCancerFixture.LAMBDA, data.test.x(), data.test.y());
            int n = data.train.size();
            assertEquals(69 * n, direct.length);
            double worst = 0;
            for (int t = 0; t < 69; t++) {
                for (int i = 0; i < n; i++) {
                    double e = exact[t][i];
                    worst = Math.max(worst, Math.abs(direct[t * n + i] - e) / Math.max(Math.abs(e), 1e-6));
                }
            }
            assertTrue(worst < 1e-8, "Direct vs closed form: worst relative error " + worst);

            double[] cg;
            try (CgInfluence influence = new CgInfluence(model, BreastCancerFixture.LAMBDA,
                    new CgOptions(1e-10, 1e-12, 0))) {
                influence.fit(new InMemoryDataSource(data.train));
                cg = influence.influences(data.test, data.train, InfluenceMode.UP, scope).toDoubleArray();
            }
            double scale = 0;
            double diff = 0;
            for (int k = 0; k < cg.length; k++) {
                scale = Math.max(scale, Math.abs(direct[k]));
                diff = Math.max(diff, Math.abs(cg[k] - direct[k]));
            }
            assertTrue(diff / scale < 1e-6, "CG vs Direct: max difference relative to max |influence| " + diff / scale);
        }
    }
}
