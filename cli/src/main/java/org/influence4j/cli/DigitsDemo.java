package org.influence4j.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
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
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.calculators.training.TrainingResult;
import org.influence4j.registry.InfluenceModelFactory;

/**
 * The main demo on the bundled handwritten digits: a 64→12 (tanh)→10 MLP trained with Adam on
 * training labels of which a seeded fraction was flipped to another digit, then ranked by
 * self-influence {@code ⟨H⁻¹∇ℓ(z_i), ∇ℓ(z_i)⟩} (mislabeled points are hard to fit, so they come
 * first), and three test predictions explained by their top proponents and opponents. The
 * computation is separated from printing and from the HTML report ({@link DemoReport}).
 */
final class DigitsDemo {

    /** Number of training points; the remaining 297 of the 1,797 digits are test points. */
    static final int TRAIN = 1500;

    /** Hidden width: p = 64·12 + 12 + 12·10 + 10 = 910 parameters, small enough for the exact Hessian. */
    static final int HIDDEN = 12;

    /**
     * @param lambda      Hessian regularization λ
     * @param l2          L2 penalty of training
     * @param seed        seed of the split, the label flips, the initialisation and the shuffling
     * @param epochs      Adam epochs
     * @param explain     test points to explain
     * @param top         proponents and opponents per explained test point
     * @param flipFraction fraction of training labels flipped, in [0, 1)
     */
    record Options(double lambda, double l2, long seed, int epochs, int explain, int top, double flipFraction) {
        Options {
            if (!(lambda >= 0) || Double.isInfinite(lambda)) {
                throw new IllegalArgumentException("--lambda: must be finite and >= 0, got " + lambda);
            }
            if (!(l2 >= 0) || Double.isInfinite(l2)) {
                throw new IllegalArgumentException("--l2: must be finite and >= 0, got " + l2);
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("--epochs: must be >= 1, got " + epochs);
            }
            if (explain < 1 || top < 1 || 2 * top > TRAIN) {
                throw new IllegalArgumentException("--explain and --top: must be >= 1 (and --top <= " + TRAIN / 2 + ")");
            }
            if (!(flipFraction >= 0 && flipFraction < 1)) {
                throw new IllegalArgumentException("--flip: must be in [0, 1), got " + flipFraction);
            }
        }
    }

    /** One training point shown as a proponent or opponent. */
    record Neighbour(int index, int label, boolean flipped, double influence) {
    }

    /** One explained test prediction. */
    record Explanation(int testIndex, int label, int predicted, double confidence, List<Neighbour> proponents,
                       List<Neighbour> opponents) {
    }

    /**
     * Everything the demo computed.
     *
     * @param trainPixels   raw 0..16 pixels of the training points, {@code [n, 64]}
     * @param testPixels    raw pixels of the test points
     * @param noisyLabels   the training labels after flipping
     * @param flipped       which training labels were flipped
     * @param selfInfluence self-influence per training point
     * @param ranking       training indices by decreasing self-influence
     * @param recallCurve   {@code recallCurve[k]} = share of flipped labels among the first k ranked points
     */
    record Result(String backend, ModelSpec spec, TrainingResult training, double trainAccuracy, double testAccuracy,
                  Options options, double[] trainPixels, double[] testPixels, double[] noisyLabels, boolean[] flipped,
                  double[] selfInfluence, int[] ranking, double[] recallCurve, List<Explanation> explanations,
                  double seconds) {

        /** @return the recall of flipped labels when the top {@code fraction} of the ranking is inspected */
        double recallAt(double fraction) {
            return recallCurve[inspected(fraction)];
        }

        /** @return the number of points inspected at {@code fraction} */
        int inspected(double fraction) {
            return (int) Math.round(fraction * ranking.length);
        }

        /** @return the number of flipped labels */
        int flips() {
            int count = 0;
            for (boolean f : flipped) {
                count += f ? 1 : 0;
            }
            return count;
        }
    }

    private DigitsDemo() {
    }

    /** @return the model of the demo: 64→32 tanh→10, softmax cross-entropy, float64 */
    static ModelSpec modelSpec() {
        return ModelSpec.builder(64).dense(HIDDEN).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
    }

    /**
     * Runs the demo.
     *
     * @param progress where progress lines go when there is no terminal
     */
    static Result run(Backend backend, InfluenceModelFactory influenceModels, Options options, PrintWriter progress) {
        long start = System.nanoTime();
        Batch digits = BundledDatasets.digits();
        int[] order = permutation(digits.size(), options.seed());
        Batch raw = digits.select(order);
        Batch trainRaw = raw.slice(0, TRAIN);
        Batch testRaw = raw.slice(TRAIN, raw.size());
        int n = trainRaw.size();

        int flips = (int) Math.round(options.flipFraction() * n);
        SplittableRandom random = new SplittableRandom(options.seed() + 1);
        int[] flipOrder = permutation(n, options.seed() + 2);
        boolean[] flipped = new boolean[n];
        double[] noisyLabels = trainRaw.y().clone();
        for (int k = 0; k < flips; k++) {
            int i = flipOrder[k];
            flipped[i] = true;
            noisyLabels[i] = (noisyLabels[i] + 1 + random.nextInt(9)) % 10;
        }
        Batch train = new Batch(scaled(trainRaw.x()), 64, noisyLabels, 1);
        Batch test = new Batch(scaled(testRaw.x()), 64, testRaw.y(), 1);

        ModelSpec spec = modelSpec();
        MinibatchOptions training = MinibatchOptions.of(Optimizer.adam(0.01), options.epochs(), 50, options.seed())
                .withL2(options.l2());
        try (TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(options.seed()));
             TensorScope scope = backend.newScope()) {
            TrainingResult fit;
            try (Progress bar = Progress.start("train MLP (Adam)", 1, progress)) {
                fit = new MinibatchTrainer(training).train(model, new InMemoryDataSource(train));
            }
            double trainAccuracy = accuracy(model, train, scope);
            double testAccuracy = accuracy(model, test, scope);

            double[] self;
            int m = Math.min(options.explain(), test.size());
            double[] explained;
            try (Progress bar = Progress.start("influences (" + influenceModels.settings().method().configName() + ")",
                    3, progress);
                 InfluenceFunctionModel influence = influenceModels.create(model)) {
                influence.fit(new InMemoryDataSource(train));
                bar.step(1);
                TrainingDataAttribution attribution = new InfluenceFunctionAttribution(model, influence,
                        influenceModels.settings().batchSize());
                self = attribution.selfInfluence(new InMemoryDataSource(train));
                bar.step(1);
                try (Tensor values = attribution.influences(test.slice(0, m), train, scope)) {
                    explained = values.toDoubleArray();
                }
            }

            int[] ranking = rankDescending(self);
            double[] curve = new double[n + 1];
            int found = 0;
            for (int k = 1; k <= n; k++) {
                found += flipped[ranking[k - 1]] ? 1 : 0;
                curve[k] = flips == 0 ? 0 : (double) found / flips;
            }

            List<Explanation> explanations = new ArrayList<>();
            double[] probabilities = softmax(model, test.slice(0, m), scope);
            for (int t = 0; t < m; t++) {
                double[] row = Arrays.copyOfRange(explained, t * n, (t + 1) * n);
                int[] byInfluence = rankDescending(row);
                List<Neighbour> pro = new ArrayList<>();
                List<Neighbour> con = new ArrayList<>();
                for (int k = 0; k < options.top(); k++) {
                    int i = byInfluence[k];
                    pro.add(new Neighbour(i, (int) noisyLabels[i], flipped[i], row[i]));
                    int j = byInfluence[n - 1 - k];
                    con.add(new Neighbour(j, (int) noisyLabels[j], flipped[j], row[j]));
                }
                int predicted = 0;
                for (int c = 1; c < 10; c++) {
                    if (probabilities[t * 10 + c] > probabilities[t * 10 + predicted]) {
                        predicted = c;
                    }
                }
                explanations.add(new Explanation(t, (int) test.y()[t], predicted, probabilities[t * 10 + predicted],
                        pro, con));
            }
            return new Result(backend.name() + " (" + backend.version() + ")", spec, fit, trainAccuracy, testAccuracy,
                    options, trainRaw.x(), testRaw.x(), noisyLabels, flipped, self, ranking, curve, explanations,
                    (System.nanoTime() - start) / 1e9);
        }
    }

    /** Prints the summary of a result. */
    static void print(Result r, PrintWriter out) {
        out.printf("influence4j demo: handwritten digits, %d training / %d test images, MLP %s (%d parameters)%n",
                r.noisyLabels().length, r.testPixels().length / 64, "64-" + HIDDEN + "(tanh)-10", r.spec().numParameters());
        out.printf("backend %s, training L2 penalty %g, Hessian regularization lambda %g%n%n", r.backend(),
                r.options().l2(), r.options().lambda());
        out.printf("1. trained with Adam (%d epochs, %d steps): objective %.4f, train accuracy %.3f (on the noisy labels),"
                        + " test accuracy %.3f%n", r.options().epochs(), r.training().iterations(), r.training().loss(),
                r.trainAccuracy(), r.testAccuracy());
        out.printf("%n2. %d of %d training labels flipped; ranking by self-influence finds them:%n", r.flips(),
                r.noisyLabels().length);
        for (double fraction : new double[] {0.05, 0.10, 0.20}) {
            out.printf("   inspect %3.0f%% (%3d images): recall %.2f (random inspection: %.2f)%n", fraction * 100,
                    r.inspected(fraction), r.recallAt(fraction), fraction);
        }
        out.printf("%n3. test predictions explained (positive influence: removing the image would raise the test loss)%n");
        for (Explanation e : r.explanations()) {
            out.printf("   test image %d: label %d, predicted %d (p = %.3f)%n", e.testIndex(), e.label(), e.predicted(),
                    e.confidence());
            out.print("     proponents:");
            for (Neighbour nb : e.proponents()) {
                out.printf(" #%d (%d%s, %+.2e)", nb.index(), nb.label(), nb.flipped() ? " flipped" : "", nb.influence());
            }
            out.print("\n     opponents: ");
            for (Neighbour nb : e.opponents()) {
                out.printf(" #%d (%d%s, %+.2e)", nb.index(), nb.label(), nb.flipped() ? " flipped" : "", nb.influence());
            }
            out.println();
        }
    }

    static double[] scaled(double[] pixels) {
        double[] out = new double[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            out[i] = pixels[i] / 16.0;
        }
        return out;
    }

    static int[] rankDescending(double[] values) {
        return IntStream.range(0, values.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -values[i]).thenComparing(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    static int[] permutation(int n, long seed) {
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

    private static double[] softmax(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        try (Tensor logits = model.forward(batch, scope)) {
            double[] z = logits.toDoubleArray();
            return Loss.softmaxRows(z, z.length / batch.size());
        }
    }

    static double accuracy(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        double[] p = softmax(model, batch, scope);
        int c = p.length / batch.size();
        int correct = 0;
        for (int i = 0; i < batch.size(); i++) {
            int best = 0;
            for (int k = 1; k < c; k++) {
                if (p[i * c + k] > p[i * c + best]) {
                    best = k;
                }
            }
            correct += best == (int) batch.y()[i] ? 1 : 0;
        }
        return (double) correct / batch.size();
    }
}
