package org.influence4j.calculators.tracin;

import java.util.List;
import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of {@link TracInCP} and {@link TracInCPFast}.
 *
 * @param layers    PyTorch parameter names to restrict the gradients to (e.g. {@code "2.weight"},
 *                  {@code "2.bias"}); empty for all parameters (Captum's {@code layers})
 * @param batchSize samples per batched per-sample-gradient pass, positive
 * @param progress  receives the self-influence and top-k tasks (one step per checkpoint and chunk);
 *                  {@link ProgressListener#NONE} by default
 * @param threads   how many checkpoints are computed at once, each on its own thread with its own
 *                  replica of the model ({@link org.influence4j.api.TwiceDifferentiable#replicate})
 *                  and its share of the backend's intra-op threads; 1 computes them one after another
 *                  on the calling thread. {@link #AUTOMATIC_THREADS} (the default) takes the backend's
 *                  intra-op threads of the calling thread
 *                  ({@link org.influence4j.api.Backend#callingThreadOpThreads}), at most one per
 *                  checkpoint and no more than keep the replicas' parameters within 256 MiB; 1 where
 *                  the backend does not set them per thread or the model cannot be replicated. The
 *                  scores are the same up to the reassociation of the backend's reductions: every
 *                  checkpoint's scores are added in checkpoint order. Each extra thread holds its own
 *                  working set (a replica and a chunk's representations): on the Fashion-MNIST CNN,
 *                  2 threads raise the peak RSS from 650 to 755 MB (self-influence) and from 643 to
 *                  780 MB (influences 500 × 2,000)
 */
public record TracInOptions(List<String> layers, int batchSize, ProgressListener progress, int threads) {

    /** {@link #threads()} chosen from the backend and the model. */
    public static final int AUTOMATIC_THREADS = 0;

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
        if (threads < 0) {
            throw new IllegalArgumentException("threads: must be >= 1, or " + AUTOMATIC_THREADS
                    + " for the automatic choice, got " + threads);
        }
    }

    /** Options with the automatic {@link #threads()}. */
    public TracInOptions(List<String> layers, int batchSize, ProgressListener progress) {
        this(layers, batchSize, progress, AUTOMATIC_THREADS);
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
        return new TracInOptions(List.of(names), batchSize, progress, threads);
    }

    /** @return a copy with another batch size */
    public TracInOptions withBatchSize(int value) {
        return new TracInOptions(layers, value, progress, threads);
    }

    /** @return a copy reporting progress to {@code listener} */
    public TracInOptions withProgress(ProgressListener listener) {
        return new TracInOptions(layers, batchSize, listener, threads);
    }

    /** @return these options with {@link #threads()} = {@code value} */
    public TracInOptions withThreads(int value) {
        return new TracInOptions(layers, batchSize, progress, value);
    }
}
