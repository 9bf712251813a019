package org.influence4j.calculators.training;

import java.nio.file.Path;
import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of the {@link MinibatchTrainer}.
 *
 * @param optimizer           SGD (with momentum) or Adam, with the base learning rate η₀
 * @param epochs              passes over the shuffled data, positive
 * @param batchSize           samples per step, positive (the last batch of an epoch may be smaller)
 * @param seed                seed of the per-epoch shuffling (same seed, same run)
 * @param l2                  L2 penalty coefficient ≥ 0 (its gradient {@code l2·θ} is added to each step)
 * @param learningRateDecay   γ in (0, 1]: epoch e (1-based) uses {@code η₀·γ^(e−1)} (1 = constant)
 * @param checkpointDirectory where checkpoints are written, or {@code null} for none
 * @param checkpointEvery     write a checkpoint after every this many epochs (and after the last), positive
 * @param progress            receives the task "train", one step per minibatch;
 *                            {@link ProgressListener#NONE} by default
 */
public record MinibatchOptions(Optimizer optimizer, int epochs, int batchSize, long seed, double l2,
                               double learningRateDecay, Path checkpointDirectory, int checkpointEvery,
                               ProgressListener progress) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public MinibatchOptions {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer: must not be null; use Optimizer.sgd(...) or Optimizer.adam(...)");
        }
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs: must be > 0, got " + epochs);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
        if (!(l2 >= 0) || Double.isInfinite(l2)) {
            throw new IllegalArgumentException("l2: must be >= 0 and finite, got " + l2);
        }
        if (!(learningRateDecay > 0 && learningRateDecay <= 1)) {
            throw new IllegalArgumentException("learningRateDecay: must be in (0, 1], got " + learningRateDecay);
        }
        if (checkpointEvery <= 0) {
            throw new IllegalArgumentException("checkpointEvery: must be > 0, got " + checkpointEvery);
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
    }

    /** Options without progress reporting. */
    public MinibatchOptions(Optimizer optimizer, int epochs, int batchSize, long seed, double l2,
                            double learningRateDecay, Path checkpointDirectory, int checkpointEvery) {
        this(optimizer, epochs, batchSize, seed, l2, learningRateDecay, checkpointDirectory, checkpointEvery,
                ProgressListener.NONE);
    }

    /** @return options without penalty, decay or checkpoints */
    public static MinibatchOptions of(Optimizer optimizer, int epochs, int batchSize, long seed) {
        return new MinibatchOptions(optimizer, epochs, batchSize, seed, 0, 1, null, 1);
    }

    /** @return a copy with another L2 penalty */
    public MinibatchOptions withL2(double value) {
        return new MinibatchOptions(optimizer, epochs, batchSize, seed, value, learningRateDecay, checkpointDirectory,
                checkpointEvery, progress);
    }

    /** @return a copy with another per-epoch learning-rate decay */
    public MinibatchOptions withLearningRateDecay(double value) {
        return new MinibatchOptions(optimizer, epochs, batchSize, seed, l2, value, checkpointDirectory,
                checkpointEvery, progress);
    }

    /** @return a copy that writes checkpoints to {@code directory} every {@code every} epochs */
    public MinibatchOptions withCheckpoints(Path directory, int every) {
        return new MinibatchOptions(optimizer, epochs, batchSize, seed, l2, learningRateDecay, directory, every,
                progress);
    }

    /** @return a copy reporting progress to {@code listener} */
    public MinibatchOptions withProgress(ProgressListener listener) {
        return new MinibatchOptions(optimizer, epochs, batchSize, seed, l2, learningRateDecay, checkpointDirectory,
                checkpointEvery, listener);
    }

    /** @return the learning rate of epoch {@code epoch} (1-based) */
    public double learningRate(int epoch) {
        return optimizer.learningRate() * Math.pow(learningRateDecay, epoch - 1);
    }
}
