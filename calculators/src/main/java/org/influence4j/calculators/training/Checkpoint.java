package org.influence4j.calculators.training;

import java.nio.file.Path;

/**
 * One saved training state: a {@code .safetensors} parameter file (written by
 * {@link Checkpoints#write}) and the learning rate in effect during the epoch that ended there,
 * which TracIn-style methods use as the checkpoint's weight.
 *
 * @param file         the parameter file
 * @param learningRate the learning rate of the epoch, finite and ≥ 0
 * @param epoch        the epoch after which the parameters were saved (1-based; 0 = before training)
 */
public record Checkpoint(Path file, double learningRate, int epoch) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public Checkpoint {
        if (file == null) {
            throw new IllegalArgumentException("file: must not be null");
        }
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate: must be finite and >= 0, got " + learningRate);
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch: must be >= 0, got " + epoch);
        }
    }
}
