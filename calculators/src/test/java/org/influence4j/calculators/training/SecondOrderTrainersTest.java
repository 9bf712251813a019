package org.influence4j.calculators.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.calculators.testing.RecordingProgress;
import org.junit.jupiter.api.Test;

class SecondOrderTrainersTest {

    private static final int D = 6;
    private final ModelSpec logistic = Fixtures.dense(D, 1, Loss.BINARY_LOGISTIC);
    private final Batch data = Fixtures.logisticData(300, D, 51);

    /** ‖(1/n) Σ (σ(z_i) − y_i)[x_i, 1] + l2·θ‖ in plain Java. */
    private double plainGradientNorm(double[] theta, double l2) {
        double[][] g = Fixtures.logisticGradients(data, theta);
        double s = 0;
        for (int q = 0; q <= D; q++) {
            double gq = l2 * theta[q];
            for (double[] row : g) {
                gq += row[q] / data.size();
            }
            s += gq * gq;
        }
        return Math.sqrt(s);
    }

    @Test
    void newtonReachesTightGradientNormAndLbfgsAgrees() {
        double l2 = 1e-3;
        HostModel model = new HostModel(logistic, new double[D + 1]);
        TrainingResult newton = new NewtonTrainer().train(model, new InMemoryDataSource(data),
                ObjectiveOptions.ofL2(l2).withBatchSize(64));
        assertTrue(newton.converged(), newton.toString());
        assertTrue(newton.gradientNorm() < 1e-8, newton.toString());
        assertTrue(plainGradientNorm(newton.parameters(), l2) < 1e-8, "independently checked gradient norm");
        assertTrue(newton.iterations() <= 15, newton.toString());
        assertEquals(0, Fixtures.maxAbsDiff(newton.parameters(), model.parameters()), "model left at the optimum");

        HostModel model2 = new HostModel(logistic, new double[D + 1]);
        TrainingResult lbfgs = new LbfgsTrainer().train(model2, new InMemoryDataSource(data),
                ObjectiveOptions.ofL2(l2).withBatchSize(64));
        assertTrue(lbfgs.converged(), lbfgs.toString());
        assertTrue(plainGradientNorm(lbfgs.parameters(), l2) < 1e-8);
        assertTrue(Fixtures.maxAbsDiff(newton.parameters(), lbfgs.parameters()) < 1e-6,
                "Newton and L-BFGS differ by " + Fixtures.maxAbsDiff(newton.parameters(), lbfgs.parameters()));
        assertEquals(newton.loss(), lbfgs.loss(), 1e-12);
    }

    @Test
    void newtonOnRidgeRegressionEqualsNormalEquations() {
        int out = 2;
        ModelSpec mse = Fixtures.dense(3, out, Loss.MSE);
        Batch reg = Fixtures.regressionData(80, 3, out, 9);
        double l2 = 0.05;
        HostModel model = new HostModel(mse, Fixtures.parameters(mse.numParameters(), 3));
        TrainingResult r = new NewtonTrainer().train(model, new InMemoryDataSource(reg), ObjectiveOptions.ofL2(l2));
        assertTrue(r.converged());
        // J = (1/n) Σ (1/C)‖W x + b − y‖² + (l2/2)‖θ‖²: per output k, (2/(nC)) X̃ᵀX̃ + l2 I) θ_k = (2/(nC)) X̃ᵀ y_k.
        int n = reg.size();
        double c = 2.0 / (n * out);
        double[][] a = new double[4][4];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 4; j++) {
                double xj = j < 3 ? reg.x()[i * 3 + j] : 1;
                for (int l = 0; l < 4; l++) {
                    double xl = l < 3 ? reg.x()[i * 3 + l] : 1;
                    a[j][l] += c * xj * xl;
                }
            }
        }
        for (int j = 0; j < 4; j++) {
            a[j][j] += l2;
        }
        double[] theta = r.parameters();
        for (int k = 0; k < out; k++) {
            double[] b = new double[4];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 4; j++) {
                    b[j] += c * (j < 3 ? reg.x()[i * 3 + j] : 1) * reg.y()[i * out + k];
                }
            }
            double[] w = Fixtures.gaussSolve(a, b);
            for (int j = 0; j < 3; j++) {
                assertEquals(w[j], theta[k * 3 + j], 1e-9, "weight " + k + "," + j);
            }
            assertEquals(w[3], theta[out * 3 + k], 1e-9, "bias " + k);
        }
    }

    /** Each trainer reports one task with a step per iteration, ended also on convergence before the limit. */
    @Test
    void newtonAndLbfgsReportAStepPerIteration() {
        for (String name : java.util.List.of("Newton", "L-BFGS")) {
            RecordingProgress progress = new RecordingProgress();
            HostModel model = new HostModel(logistic, new double[D + 1]);
            ObjectiveOptions objective = ObjectiveOptions.ofL2(1e-3).withBatchSize(64);
            TrainingResult r = name.equals("Newton")
                    ? new NewtonTrainer(NewtonOptions.defaults().withProgress(progress)).train(model,
                            new InMemoryDataSource(data), objective)
                    : new LbfgsTrainer(LbfgsOptions.defaults().withProgress(progress)).train(model,
                            new InMemoryDataSource(data), objective);
            java.util.List<String> events = progress.events();
            assertEquals("started " + name + " " + (name.equals("Newton") ? 100 : 1000), events.get(0));
            assertEquals("finished", events.get(events.size() - 1));
            assertEquals(r.iterations(), progress.done(), events.toString());
        }
    }

    @Test
    void lossNormalizerKeepsTheOneOverNScale() {
        HostModel model = new HostModel(logistic, Fixtures.parameters(D + 1, 4));
        Objective full = new Objective(model, new InMemoryDataSource(data), ObjectiveOptions.defaults());
        Objective minusOne = new Objective(model, new InMemoryDataSource(data.slice(1, data.size())),
                ObjectiveOptions.defaults().withLossNormalizer(data.size()));
        double[] theta = Fixtures.parameters(D + 1, 4);
        model.setParameters(theta);
        double first = model.loss(data.slice(0, 1));
        assertEquals(full.value(theta) - first / data.size(), minusOne.value(theta), 1e-14);
        assertEquals(data.size(), minusOne.normalizer());
        assertEquals(data.size(), full.normalizer());
    }

    @Test
    void optionsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NewtonOptions(0, 10));
        assertTrue(e.getMessage().startsWith("tolerance"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LbfgsOptions(0, 1e-8, 10));
        assertTrue(e.getMessage().startsWith("memory"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ObjectiveOptions(-1, 0, 10));
        assertTrue(e.getMessage().startsWith("l2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ObjectiveOptions(0, -1, 10));
        assertTrue(e.getMessage().startsWith("lossNormalizer"), e.getMessage());
        HostModel model = new HostModel(logistic, new double[D + 1]);
        Batch wide = Fixtures.logisticData(10, D + 1, 1);
        e = assertThrows(IllegalArgumentException.class, () -> new NewtonTrainer().train(model,
                new InMemoryDataSource(wide), ObjectiveOptions.defaults()));
        assertTrue(e.getMessage().startsWith("trainingData: x has 7 features"), e.getMessage());
    }
}
