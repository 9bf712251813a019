package org.influence4j.cli;

import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.Optimizer;
import picocli.CommandLine.Option;

/**
 * The training recipe shared by {@code train} and the retrainings of {@code validate --check lds}:
 * optimizer, epochs, samples per step, learning rate and its per-epoch decay. The defaults are the
 * same in both commands, so {@code validate} retrains a model the way {@code train} trained it.
 */
final class TrainingOptions {

    /** The training algorithms: newton and lbfgs for convex models, adam and sgd for any model. */
    enum Algorithm { newton, lbfgs, adam, sgd }

    @Option(names = "--optimizer", defaultValue = "adam", description = "newton, lbfgs, adam or sgd (default: ${DEFAULT-VALUE}).")
    Algorithm optimizer;

    @Option(names = "--epochs", defaultValue = "20", description = "Epochs of adam/sgd (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--minibatch", defaultValue = "32", description = "Samples per adam/sgd step (default: ${DEFAULT-VALUE}).")
    int minibatch;

    @Option(names = "--lr", defaultValue = "0.01", description = "Learning rate of adam/sgd (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--lr-decay", defaultValue = "1", description = "Per-epoch learning-rate factor in (0, 1] (default: ${DEFAULT-VALUE}).")
    double decay;

    /** @return the recipe as one line for provenance records, e.g. {@code adam epochs=20 minibatch=32 lr=0.01 decay=1.0 seed=0} */
    String describe(long seed) {
        return optimizer + " epochs=" + epochs + " minibatch=" + minibatch + " lr=" + learningRate + " decay=" + decay
                + " seed=" + seed;
    }

    /** @return whether the optimizer trains in minibatches (adam or sgd) */
    boolean isMinibatch() {
        return optimizer == Algorithm.adam || optimizer == Algorithm.sgd;
    }

    /**
     * @param seed seed of the shuffling
     * @param l2   L2 penalty
     * @return the minibatch options of adam or sgd, without checkpoints
     * @throws IllegalStateException if the optimizer is newton or lbfgs
     */
    MinibatchOptions minibatchOptions(long seed, double l2) {
        if (!isMinibatch()) {
            throw new IllegalStateException("--optimizer " + optimizer + " does not train in minibatches");
        }
        Optimizer o = optimizer == Algorithm.adam ? Optimizer.adam(learningRate) : Optimizer.sgd(learningRate);
        return MinibatchOptions.of(o, epochs, minibatch, seed).withL2(l2).withLearningRateDecay(decay);
    }
}
