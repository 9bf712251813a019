package org.influence4j.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;
import org.influence4j.calculators.validation.LeaveOneOut;
import org.influence4j.registry.InfluenceModelFactory;
import org.influence4j.registry.InfluenceSettings;

/**
 * The small demo on the bundled breast-cancer data ({@code demo --data breast-cancer}): trains an
 * L2-regularized logistic regression to its optimum, explains test predictions by their most
 * influential training points, checks the predictions against actual leave-one-out retraining,
 * and finds deliberately flipped training labels by self-influence.
 */
final class BreastCancerDemo {

    private final BackendOptions.Session session;
    private final double lambda;
    private final long seed;
    private final int explain;
    private final int top;
    private final double flipFraction;

    /**
     * @param session the backend and influence models of the command's options (method, λ, {@code -D},
     *                {@code --config}, {@code --backend}); {@code lambda} is its λ
     */
    BreastCancerDemo(BackendOptions.Session session, double lambda, long seed, int explain, int top,
                     double flipFraction) {
        this.session = session;
        this.lambda = lambda;
        this.seed = seed;
        this.explain = explain;
        this.top = top;
        this.flipFraction = flipFraction;
    }

    private static final int TRAIN = 500;

    /** Runs the demo, printing to {@code out}; returns the recall of flipped labels at 10% inspected. */
    double run(PrintWriter out) {
        InfluenceSettings settings = session.settings();
        Backend backend = session.backend();
        InfluenceModelFactory influenceModels = session.influenceModels();

        Batch all = BundledDatasets.standardize(BundledDatasets.breastCancer());
        int[] order = permutation(all.size(), seed);
        Batch train = all.select(Arrays.copyOfRange(order, 0, TRAIN));
        Batch test = all.select(Arrays.copyOfRange(order, TRAIN, all.size()));
        ModelSpec spec = ModelSpec.builder(all.numFeatures()).dense(1)
                .loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        ObjectiveOptions objective = ObjectiveOptions.ofL2(lambda);
        out.printf("influence4j demo: breast cancer, %d training / %d test points, logistic regression (%d parameters)%n",
                train.size(), test.size(), spec.numParameters());
        out.printf("backend %s (%s), inversion %s, lambda %g%n%n", backend.name(), backend.version(),
                settings.method().configName(), lambda);

        try (TwiceDifferentiable model = backend.createModel(spec, new double[spec.numParameters()]);
             TensorScope scope = backend.newScope()) {
            TrainingResult fit = new NewtonTrainer().train(model, new InMemoryDataSource(train), objective);
            out.printf("1. trained to the optimum: %d Newton steps, |grad| = %.2e, test accuracy %.3f%n",
                    fit.iterations(), fit.gradientNorm(), accuracy(model, test, scope));

            double[] influences;
            int n = train.size();
            try (InfluenceFunctionModel influence = influenceModels.create(model)) {
                influence.fit(new InMemoryDataSource(train));
                Batch explained = test.slice(0, Math.min(explain, test.size()));
                influences = influence.influences(explained, train, InfluenceMode.UP, scope).toDoubleArray();
            }
            out.printf("%n2. most influential training points (positive: removing it would raise the test loss)%n");
            LeaveOneOut loo = new LeaveOneOut(objective);
            for (int t = 0; t < Math.min(explain, test.size()); t++) {
                double[] row = Arrays.copyOfRange(influences, t * n, (t + 1) * n);
                Batch point = test.slice(t, t + 1);
                out.printf("   test point %d (label %s, p(benign) = %.3f)%n", t, label(point.y()[0]),
                        probability(model, point, scope));
                Integer[] ranked = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(i -> -row[i]))
                        .toArray(Integer[]::new);
                out.print("     proponents:");
                for (int k = 0; k < top; k++) {
                    out.printf(" #%d (%s, %+.2e)", ranked[k], label(train.y()[ranked[k]]), row[ranked[k]]);
                }
                out.print("\n     opponents: ");
                for (int k = 0; k < top; k++) {
                    int i = ranked[n - 1 - k];
                    out.printf(" #%d (%s, %+.2e)", i, label(train.y()[i]), row[i]);
                }
                LeaveOneOut.Comparison check = loo.compare(model, train, point, row, 20);
                out.printf("%n     leave-one-out check of the 20 largest: Pearson r = %.4f between predicted and actual"
                        + " change of test loss%n", check.pearson());
            }

            double recallAt10 = findFlippedLabels(out, model, train, objective, influenceModels);
            out.printf("%ndone: recall of flipped labels at 10%% inspected = %.2f%n", recallAt10);
            return recallAt10;
        }
    }

    private double findFlippedLabels(PrintWriter out, TwiceDifferentiable model, Batch train, ObjectiveOptions objective,
                                     InfluenceModelFactory influenceModels) {
        int n = train.size();
        int flips = (int) Math.round(flipFraction * n);
        int[] flipped = Arrays.copyOf(permutation(n, seed + 1), flips);
        double[] y = train.y().clone();
        for (int i : flipped) {
            y[i] = 1 - y[i];
        }
        Batch noisy = new Batch(train.x(), train.numFeatures(), y, 1);
        model.setParameters(new double[model.numParameters()]);
        new NewtonTrainer().train(model, new InMemoryDataSource(noisy), objective);
        double[] self;
        try (InfluenceFunctionModel influence = influenceModels.create(model)) {
            influence.fit(new InMemoryDataSource(noisy));
            self = new InfluenceFunctionAttribution(model, influence, influenceModels.settings().batchSize())
                    .selfInfluence(new InMemoryDataSource(noisy));
        }
        boolean[] isFlipped = new boolean[n];
        for (int i : flipped) {
            isFlipped[i] = true;
        }
        Integer[] ranked = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(i -> -self[i]))
                .toArray(Integer[]::new);
        out.printf("%n3. %d of %d training labels flipped; ranking by self-influence finds them:%n", flips, n);
        double recallAt10 = 0;
        for (double fraction : new double[] {0.05, 0.10, 0.20}) {
            int inspected = (int) Math.round(fraction * n);
            int found = 0;
            for (int k = 0; k < inspected; k++) {
                found += isFlipped[ranked[k]] ? 1 : 0;
            }
            double recall = flips == 0 ? 0 : (double) found / flips;
            if (fraction == 0.10) {
                recallAt10 = recall;
            }
            out.printf("   inspect %3.0f%% (%3d points): recall %.2f (random inspection: %.2f)%n", fraction * 100,
                    inspected, recall, fraction);
        }
        return recallAt10;
    }

    private static int[] permutation(int n, long seed) {
        int[] idx = IntStream.range(0, n).toArray();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }

    private static double probability(TwiceDifferentiable model, Batch point, TensorScope scope) {
        try (Tensor logits = model.forward(point, scope)) {
            return 1 / (1 + Math.exp(-logits.toDoubleArray()[0]));
        }
    }

    private static double accuracy(TwiceDifferentiable model, Batch test, TensorScope scope) {
        try (Tensor logits = model.forward(test, scope)) {
            double[] z = logits.toDoubleArray();
            int correct = 0;
            for (int i = 0; i < z.length; i++) {
                correct += (z[i] > 0 ? 1 : 0) == (int) test.y()[i] ? 1 : 0;
            }
            return (double) correct / z.length;
        }
    }

    private static String label(double y) {
        return y == 1 ? "benign" : "malignant";
    }
}
