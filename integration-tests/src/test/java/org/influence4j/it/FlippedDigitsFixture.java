package org.influence4j.it;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.calculators.training.TrainingResult;

/**
 * The mislabel setting of the attribution issue: bundled digits with features / 16, a seeded split
 * into 360 test and 1437 training points, 10% of the training labels flipped to another class, an
 * MLP 64-32 tanh-10 (softmax cross-entropy, float64) trained with SGD lr 0.1, batch 32, 30 epochs,
 * checkpoints every 5 epochs.
 */
final class FlippedDigitsFixture {

    static final ModelSpec SPEC = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
            .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
    static final double LEARNING_RATE = 0.1;
    static final int EPOCHS = 30;
    static final int BATCH = 32;

    final Batch train;
    final Batch test;
    final boolean[] flipped;
    final double[] initial;

    FlippedDigitsFixture(long seed) {
        Batch raw = BundledDatasets.digits();
        double[] x = raw.x().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] /= 16.0;
        }
        Batch all = new Batch(x, raw.numFeatures(), raw.y().clone(), 1);
        int[] order = IntStream.range(0, all.size()).toArray();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        test = all.select(Arrays.copyOfRange(order, 0, 360));
        Batch clean = all.select(Arrays.copyOfRange(order, 360, all.size()));
        int n = clean.size();
        double[] y = clean.y().clone();
        flipped = new boolean[n];
        int[] candidates = IntStream.range(0, n).toArray();
        for (int i = 0; i < n / 10; i++) {
            int j = i + random.nextInt(n - i);
            int t = candidates[i];
            candidates[i] = candidates[j];
            candidates[j] = t;
            int victim = candidates[i];
            flipped[victim] = true;
            y[victim] = (y[victim] + 1 + random.nextInt(9)) % 10;
        }
        train = new Batch(clean.x(), clean.numFeatures(), y, 1);
        initial = SPEC.initialParameters(seed);
    }

    /** Trains {@code model} from {@link #initial}, writing checkpoints to {@code dir}. */
    TrainingResult train(TwiceDifferentiable model, Path dir) {
        model.setParameters(initial);
        MinibatchOptions options = MinibatchOptions.of(Optimizer.sgd(LEARNING_RATE), EPOCHS, BATCH, 1)
                .withCheckpoints(dir, 5);
        return new MinibatchTrainer(options).train(model, new InMemoryDataSource(train));
    }
}
