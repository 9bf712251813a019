package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.attribution.FirstOrderInfluenceCalculator;
import org.influence4j.calculators.attribution.FirstOrderOptions;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.validation.AttributionQuality;
import org.influence4j.calculators.validation.LeaveGroupOut;
import org.influence4j.calculators.validation.LeaveOneOut;
import org.influence4j.calculators.validation.Retrainer;
import org.influence4j.calculators.validation.Retrainers;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group influence against reality: 20 random groups of 10 breast-cancer training points are removed
 * and the L2 logistic regression retrained (Newton, same 1/n scaling); the predicted change of the
 * mean test loss, groupInfluenceValue / (n·m), must correlate with the actual change (Pearson ≥ 0.9).
 */
class GroupInfluenceRetrainingTest {

    private static final Logger LOG = LoggerFactory.getLogger(GroupInfluenceRetrainingTest.class);

    @Test
    void predictedGroupRemovalCorrelatesWithRetraining() {
        BreastCancerFixture data = new BreastCancerFixture(0);
        Backend backend = new PtBackendProvider().create();
        ObjectiveOptions objective = ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA);
        int n = data.train.size();
        int m = data.test.size();
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()])) {
            new NewtonTrainer().train(model, new InMemoryDataSource(data.train), objective);
            SplittableRandom random = new SplittableRandom(5);
            int[][] groups = new int[20][];
            for (int g = 0; g < groups.length; g++) {
                groups[g] = random.ints(0, n).distinct().limit(10).sorted().toArray();
            }
            double[] first = new double[groups.length];
            double[] second = new double[groups.length];
            InMemoryDataSource trainSource = new InMemoryDataSource(data.train);
            try (FirstOrderInfluenceCalculator c1 = new FirstOrderInfluenceCalculator(model, trainSource,
                    new DirectSolver(), FirstOrderOptions.of(BreastCancerFixture.LAMBDA));
                 FirstOrderInfluenceCalculator c2 = new FirstOrderInfluenceCalculator(model, trainSource,
                         new DirectSolver(), FirstOrderOptions.of(BreastCancerFixture.LAMBDA).withSecondOrderGroups(true))) {
                for (int g = 0; g < groups.length; g++) {
                    first[g] = c1.groupInfluenceValue(data.train.select(groups[g]), data.test) / ((double) n * m);
                    second[g] = c2.groupInfluenceValue(data.train.select(groups[g]), data.test) / ((double) n * m);
                }
            }
            Retrainer retrainer = Retrainers.newton(model, data.train, data.test, objective.withLossNormalizer(n),
                    new NewtonOptions(1e-10, 50));
            LeaveGroupOut.Comparison c = LeaveGroupOut.compare(n, groups, first, retrainer);
            double r2 = org.influence4j.calculators.validation.Correlation.pearson(second, c.actual());
            double err1 = 0;
            double err2 = 0;
            for (int g = 0; g < groups.length; g++) {
                err1 += Math.abs(first[g] - c.actual()[g]);
                err2 += Math.abs(second[g] - c.actual()[g]);
            }
            LOG.info("groups of 10, 20 groups: Pearson r first order {}, second order {}; mean |error| {} vs {};"
                    + " actual changes {}", c.pearson(), r2, err1 / groups.length, err2 / groups.length,
                    Arrays.toString(c.actual()));
            assertTrue(c.pearson() >= 0.9, "first-order Pearson r " + c.pearson());
            assertTrue(r2 >= 0.9, "second-order Pearson r " + r2);
        }
    }

    @Test
    void leaveOneOutCorrelationOfAnyAttributionMethod() {
        BreastCancerFixture data = new BreastCancerFixture(0);
        Backend backend = new PtBackendProvider().create();
        ObjectiveOptions objective = ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA);
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()])) {
            new NewtonTrainer().train(model, new InMemoryDataSource(data.train), objective);
            try (FirstOrderInfluenceCalculator c = new FirstOrderInfluenceCalculator(model,
                    new InMemoryDataSource(data.train), new DirectSolver(), FirstOrderOptions.of(BreastCancerFixture.LAMBDA))) {
                LeaveOneOut.Comparison loo = AttributionQuality.leaveOneOut(c, new LeaveOneOut(objective), model,
                        data.train, data.test.slice(0, 1), 30);
                LOG.info("leave-one-out Pearson r of FirstOrderInfluenceCalculator, test point 0, 30 removals: {}",
                        loo.pearson());
                assertTrue(loo.pearson() >= 0.95, "leave-one-out r " + loo.pearson());
            }
        }
    }
}
