package org.influence4j.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.calculators.training.TrainingResult;
import org.influence4j.io.Idx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mislabel-detection protocol on the Fashion-MNIST CNN of
 * {@code examples/fashion-mnist-cnn/model.json} (11,978 parameters, float32, djl-pytorch): the
 * first 2,000 training images (held as float32, pixels / 255), 10% of their labels flipped to
 * another class (seed 11), trained with SGD (lr 0.05, batch 32, 3 epochs, seed 8) from the
 * initial parameters of seed 5, with a checkpoint every 2 epochs in {@code dir}.
 *
 * @param spec        the example's model
 * @param model       the model at the last training step (the caller closes it)
 * @param train       the 2,000 images with their partly flipped labels
 * @param flipped     which labels were flipped
 * @param checkpoints the SGD checkpoints
 */
public record FashionCnnFixture(ModelSpec spec, TwiceDifferentiable model, Batch train, boolean[] flipped,
                                TracInCheckpoints checkpoints) {

    private static final Logger LOG = LoggerFactory.getLogger(FashionCnnFixture.class);
    /** Where Debian's {@code dataset-fashion-mnist} puts the files. */
    public static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");
    /** Training images used. */
    public static final int TRAIN = 2000;

    /**
     * Reads the data, flips labels, trains and writes checkpoints into {@code dir}.
     *
     * @param example the folder {@code examples/fashion-mnist-cnn}
     */
    public static FashionCnnFixture train(Path example, Path dir) throws IOException {
        ModelSpec spec = ModelSpec.read(example.resolve("model.json"));
        HostArray images = Idx.read(DATA.resolve("train-images-idx3-ubyte.gz"), TRAIN);
        HostArray labels = Idx.read(DATA.resolve("train-labels-idx1-ubyte.gz"), TRAIN);
        double[] pixels = images.data();
        float[] x = new float[pixels.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (pixels[i] / 255.0);
        }
        double[] y = labels.data().clone();
        boolean[] flipped = new boolean[TRAIN];
        SplittableRandom random = new SplittableRandom(11);
        int[] order = IntStream.range(0, TRAIN).toArray();
        for (int i = 0; i < TRAIN / 10; i++) {
            int j = i + random.nextInt(TRAIN - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            flipped[order[i]] = true;
            y[order[i]] = (y[order[i]] + 1 + random.nextInt(9)) % 10;
        }
        Batch train = new Batch(HostArray.ofFloats(x, TRAIN, 1, 28, 28), y, 1);
        TwiceDifferentiable model = PtBackendProvider.backend().createModel(spec, spec.initialParameters(5));
        long start = System.nanoTime();
        MinibatchOptions options = MinibatchOptions.of(Optimizer.sgd(0.05), 8, 32, 3).withCheckpoints(dir, 2);
        TrainingResult result = new MinibatchTrainer(options).train(model, new InMemoryDataSource(train));
        LOG.info("Fashion CNN trained in {} ms: {} steps, final loss {}", (System.nanoTime() - start) / 1e6,
                result.iterations(), result.loss());
        return new FashionCnnFixture(spec, model, train, flipped,
                TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT));
    }

    /** @return the share of flipped labels among the top 10% of samples by score */
    public double recallAtTenPercent(double[] scores) {
        Integer[] order = IntStream.range(0, scores.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        int inspected = scores.length / 10;
        int found = 0;
        int total = 0;
        for (int i = 0; i < scores.length; i++) {
            total += flipped[i] ? 1 : 0;
        }
        for (int i = 0; i < inspected; i++) {
            found += flipped[order[i]] ? 1 : 0;
        }
        return (double) found / total;
    }
}
