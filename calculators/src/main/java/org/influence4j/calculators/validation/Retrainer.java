package org.influence4j.calculators.validation;

/**
 * Retrains a model on a subset of its training data and reports the loss of every test point
 * afterwards: the ground truth of the attribution-quality checks ({@link LinearDatamodelingScore},
 * {@link LeaveGroupOut}). Implementations must leave the model's parameters as they found them.
 * See {@link Retrainers} for the project's trainers.
 */
@FunctionalInterface
public interface Retrainer {

    /**
     * @param subset indices of the training points to train on (sorted, distinct)
     * @return the per-sample loss of each test point after training on {@code subset}
     */
    double[] testLosses(int[] subset);
}
