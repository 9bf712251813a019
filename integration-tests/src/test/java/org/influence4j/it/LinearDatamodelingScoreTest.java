package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.attribution.FirstOrderInfluenceCalculator;
import org.influence4j.calculators.attribution.FirstOrderOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.calculators.validation.LinearDatamodelingScore;
import org.influence4j.calculators.validation.Retrainer;
import org.influence4j.calculators.validation.Retrainers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LDS (50 seeded subsets of 50%) of influence functions on breast-cancer logistic regression
 * (always run) and of TracInCP on the digits MLP (50 MLP retrainings: run with
 * {@code -Dinfluence4j.reports=true}; {@code -Dinfluence4j.lds.subsets=N} for fewer).
 */
class LinearDatamodelingScoreTest {

    private static final Logger LOG = LoggerFactory.getLogger(LinearDatamodelingScoreTest.class);

    @Test
    void influenceFunctionsOnBreastCancer() {
        BreastCancerFixture data = new BreastCancerFixture(0);
        Backend backend = new PtBackendProvider().create();
        ObjectiveOptions objective = ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA);
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()]);
             TensorScope scope = backend.newScope()) {
            new NewtonTrainer().train(model, new InMemoryDataSource(data.train), objective);
            InMemoryDataSource source = new InMemoryDataSource(data.train);
            double[] direct;
            double[] cg;
            try (FirstOrderInfluenceCalculator d = new FirstOrderInfluenceCalculator(model, source, new DirectSolver(),
                    FirstOrderOptions.of(BreastCancerFixture.LAMBDA));
                 FirstOrderInfluenceCalculator c = new FirstOrderInfluenceCalculator(model, source,
                         new ConjugateGradientSolver(new CgOptions(1e-10, 0, 0)),
                         FirstOrderOptions.of(BreastCancerFixture.LAMBDA))) {
                direct = d.influences(data.test, data.train, scope).toDoubleArray();
                cg = c.influences(data.test, data.train, scope).toDoubleArray();
            }
            LinearDatamodelingScore lds = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(50, 0.5, 0));
            Retrainer retrainer = Retrainers.newton(model, data.train, data.test, objective, new NewtonOptions(1e-10, 50));
            long t0 = System.nanoTime();
            List<LinearDatamodelingScore.Result> r = lds.evaluateAll(List.of(direct, cg), data.test.size(),
                    data.train.size(), retrainer);
            LOG.info("LDS breast cancer (L2 logistic, λ = 0.01, 50 subsets of 50%, seed 0, 69 test points): direct {},"
                            + " cg {} (undefined points {}, {}); retraining {} ms", r.get(0).lds(), r.get(1).lds(),
                    r.get(0).undefined(), r.get(1).undefined(), (System.nanoTime() - t0) / 1_000_000);
            assertTrue(r.get(0).lds() > 0.2, "direct LDS " + r.get(0).lds());
            assertTrue(Math.abs(r.get(0).lds() - r.get(1).lds()) < 1e-3, "direct and CG LDS differ");
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "influence4j.reports", matches = "true")
    void tracInOnDigitsMlp(@TempDir Path dir) {
        FlippedDigitsFixture data = new FlippedDigitsFixture(0);
        Backend backend = new PtBackendProvider().create();
        Batch test = data.test.slice(0, 60);
        try (TwiceDifferentiable model = backend.createModel(FlippedDigitsFixture.SPEC, data.initial);
             TensorScope scope = backend.newScope()) {
            data.train(model, dir);
            TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(dir, FlippedDigitsFixture.SPEC,
                    CheckpointLoader.DEFAULT);
            double[] scores = new TracInCP(model, checkpoints, TracInOptions.defaults())
                    .influences(test, data.train, scope).toDoubleArray();
            MinibatchOptions sgd = MinibatchOptions.of(Optimizer.sgd(FlippedDigitsFixture.LEARNING_RATE),
                    FlippedDigitsFixture.EPOCHS, FlippedDigitsFixture.BATCH, 1);
            Retrainer retrainer = Retrainers.minibatch(model, data.train, test, sgd, data.initial);
            int subsets = Integer.getInteger("influence4j.lds.subsets", 50);
            LinearDatamodelingScore lds = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(subsets, 0.5, 0));
            long t0 = System.nanoTime();
            LinearDatamodelingScore.Result r = lds.score(scores, test.size(), data.train.size(),
                    lds.retrain(data.train.size(), retrainer));
            LOG.info("LDS digits MLP (TracInCP, 6 checkpoints, {} subsets of 50%, seed 0, 60 test points): {}"
                    + " (undefined {}); retraining {} ms", subsets, r.lds(), r.undefined(),
                    (System.nanoTime() - t0) / 1_000_000);
            assertTrue(r.lds() > 0, "TracInCP LDS " + r.lds());
        }
    }
}
