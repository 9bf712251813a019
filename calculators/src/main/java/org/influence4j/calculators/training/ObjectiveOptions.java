package org.influence4j.calculators.training;

/**
 * How the training objective {@code J(θ) = (1/N) Σ_i ℓ_i(θ) + (l2/2)‖θ‖²} is formed.
 *
 * @param l2             the L2 penalty coefficient, ≥ 0 (its Hessian contribution is l2·I)
 * @param lossNormalizer N, &gt; 0, or 0 for "the number of samples of the data" (the mean loss)
 * @param batchSize      samples per chunk of each pass over the data, positive
 */
public record ObjectiveOptions(double l2, long lossNormalizer, int batchSize) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public ObjectiveOptions {
        if (!(l2 >= 0) || Double.isInfinite(l2)) {
            throw new IllegalArgumentException("l2: must be >= 0 and finite, got " + l2);
        }
        if (lossNormalizer < 0) {
            throw new IllegalArgumentException("lossNormalizer: must be > 0, or 0 for the number of samples; got "
                    + lossNormalizer);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
    }

    /** @return no penalty, mean loss, chunks of 512 */
    public static ObjectiveOptions defaults() {
        return new ObjectiveOptions(0, 0, 512);
    }

    /** @return the mean loss with penalty {@code l2}, chunks of 512 */
    public static ObjectiveOptions ofL2(double l2) {
        return new ObjectiveOptions(l2, 0, 512);
    }

    /** @return a copy with another loss normalizer (0 = number of samples) */
    public ObjectiveOptions withLossNormalizer(long value) {
        return new ObjectiveOptions(l2, value, batchSize);
    }

    /** @return a copy with another chunk size */
    public ObjectiveOptions withBatchSize(int value) {
        return new ObjectiveOptions(l2, lossNormalizer, value);
    }
}
