package org.influence4j.calculators.tracin;

import java.util.List;

/**
 * Settings of {@link TracInCP}.
 *
 * @param layers    PyTorch parameter names to restrict the gradients to (e.g. {@code "2.weight"},
 *                  {@code "2.bias"}); empty for all parameters (Captum's {@code layers})
 * @param batchSize samples per batched per-sample-gradient pass, positive
 */
public record TracInOptions(List<String> layers, int batchSize) {

    /** Default batch size. */
    public static final int DEFAULT_BATCH_SIZE = 256;

    /** @throws IllegalArgumentException naming the argument out of range */
    public TracInOptions {
        if (layers == null) {
            throw new IllegalArgumentException("layers: must not be null; use List.of() for all parameters");
        }
        layers = List.copyOf(layers);
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
    }

    /** @return all parameters, default batch size */
    public static TracInOptions defaults() {
        return new TracInOptions(List.of(), DEFAULT_BATCH_SIZE);
    }

    /** @return a copy restricted to the named parameters */
    public TracInOptions withLayers(String... names) {
        return new TracInOptions(List.of(names), batchSize);
    }

    /** @return a copy with another batch size */
    public TracInOptions withBatchSize(int value) {
        return new TracInOptions(layers, value);
    }
}
