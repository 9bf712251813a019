package org.influence4j.calculators.tracin;

import java.util.List;
import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of {@link TracInCP}.
 *
 * @param layers    PyTorch parameter names to restrict the gradients to (e.g. {@code "2.weight"},
 *                  {@code "2.bias"}); empty for all parameters (Captum's {@code layers})
 * @param batchSize samples per batched per-sample-gradient pass, positive
 * @param progress  receives the self-influence and top-k tasks (one step per checkpoint and chunk);
 *                  {@link ProgressListener#NONE} by default
 */
public record TracInOptions(List<String> layers, int batchSize, ProgressListener progress) {

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
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
    }

    /** Options without progress reporting. */
    public TracInOptions(List<String> layers, int batchSize) {
        this(layers, batchSize, ProgressListener.NONE);
    }

    /** @return all parameters, default batch size */
    public static TracInOptions defaults() {
        return new TracInOptions(List.of(), DEFAULT_BATCH_SIZE);
    }

    /** @return a copy restricted to the named parameters */
    public TracInOptions withLayers(String... names) {
        return new TracInOptions(List.of(names), batchSize, progress);
    }

    /** @return a copy with another batch size */
    public TracInOptions withBatchSize(int value) {
        return new TracInOptions(layers, value, progress);
    }

    /** @return a copy reporting progress to {@code listener} */
    public TracInOptions withProgress(ProgressListener listener) {
        return new TracInOptions(layers, batchSize, listener);
    }
}
