package org.influence4j.calculators.influence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.HostScope;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.Objective;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;
import org.junit.jupiter.api.Test;

/**
 * The documented sign convention against actual leave-one-out retraining: removing training point
 * j changes the test loss by about {@code +influence(test, j) / n}.
 */
class LeaveOneOutSignTest {

    @Test
    void influenceOverNPredictsTheLeaveOneOutChangeOfTheTestLoss() {
        int d = 3;
        int n = 300;
        double l2 = 0.01;
        ModelSpec spec = Fixtures.dense(d, 1, Loss.BINARY_LOGISTIC);
        Batch train = Fixtures.logisticData(n, d, 71);
        Batch test = Fixtures.logisticData(1, d, 72);
        NewtonTrainer newton = new NewtonTrainer(new NewtonOptions(1e-12, 50));
        HostModel model = new HostModel(spec, new double[d + 1]);
        TrainingResult full = newton.train(model, new InMemoryDataSource(train), ObjectiveOptions.ofL2(l2));
        assertTrue(full.converged(), full.toString());
        double[] optimum = full.parameters();
        double baseTestLoss = model.loss(test);

        double[] influence;
        try (DirectInfluence inf = new DirectInfluence(model, l2).fit(new InMemoryDataSource(train));
             HostScope scope = HostBackend.scope()) {
            influence = inf.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
        }

        double[] actuals = new double[n];
        double[] predictions = new double[n];
        int agree = 0;
        double maxPredicted = 0;
        double maxError = 0;
        for (int j = 0; j < n; j++) {
            int[] keep = new int[n - 1];
            for (int i = 0, k = 0; i < n; i++) {
                if (i != j) {
                    keep[k++] = i;
                }
            }
            HostModel loo = new HostModel(spec, optimum);
            Objective objective = new Objective(loo, new InMemoryDataSource(train.select(keep)),
                    ObjectiveOptions.ofL2(l2).withLossNormalizer(n));
            TrainingResult r = newton.train(objective, optimum);
            assertTrue(r.converged());
            double actual = loo.loss(test) - baseTestLoss;
            double predicted = influence[j] / n;
            actuals[j] = actual;
            predictions[j] = predicted;
            if (Math.signum(actual) == Math.signum(predicted)) {
                agree++;
            }
            maxPredicted = Math.max(maxPredicted, Math.abs(predicted));
            maxError = Math.max(maxError, Math.abs(actual - predicted));
        }
        assertEquals(n, agree, "sign of influence/n equals the sign of the leave-one-out test-loss change");
        // influence/n is first order in 1/n: the remainder is O(1/n²), here about 7% of the largest change.
        assertTrue(maxError < 0.1 * maxPredicted, "first-order error " + maxError + " vs scale " + maxPredicted);
        assertTrue(correlation(actuals, predictions) > 0.99, "correlation " + correlation(actuals, predictions));
    }

    private static double correlation(double[] a, double[] b) {
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i] / a.length;
            mb += b[i] / b.length;
        }
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }
}
