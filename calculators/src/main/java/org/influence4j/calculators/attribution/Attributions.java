package org.influence4j.calculators.attribution;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.model.ModelSpec;

/** Shared helpers of the attribution methods: argument checks and streaming top-k over training chunks. */
public final class Attributions {

    /** Computes the score block of one training chunk. */
    @FunctionalInterface
    public interface BlockScorer {
        /**
         * @param chunk  training samples {@code [offset, offset + chunk.size())}
         * @param offset index of the chunk's first sample in the training source
         * @return scores {@code [m, chunk.size()]} owned by {@code scope}
         */
        Tensor scores(Batch chunk, long offset, TensorScope scope);
    }

    private Attributions() {
    }

    /** @throws IllegalArgumentException naming {@code k} when k ≤ 0 or k &gt; n */
    public static void requireK(int k, long n) {
        if (k <= 0) {
            throw new IllegalArgumentException("k: must be > 0, got " + k);
        }
        if (k > n) {
            throw new IllegalArgumentException("k: must be <= the number of training points " + n + ", got " + k);
        }
    }

    /**
     * The checks of {@link TrainingDataAttribution#topK}'s arguments.
     *
     * @throws IllegalArgumentException naming {@code test}, {@code train} or {@code k}
     */
    public static void requireTopK(ModelSpec spec, Batch test, DataSource train, int k) {
        requireNonEmpty(test, "test");
        requireNonEmpty(train, "train");
        requireK(k, train.size());
        spec.validate(test, "test");
    }

    /** @throws IllegalArgumentException naming {@code argument} when the batch is null or empty */
    public static void requireNonEmpty(Batch batch, String argument) {
        if (batch == null) {
            throw new IllegalArgumentException(argument + ": must not be null");
        }
        if (batch.size() == 0) {
            throw new IllegalArgumentException(argument + ": is empty; pass at least one sample");
        }
    }

    /** @throws IllegalArgumentException naming {@code argument} when the source is null or empty */
    public static void requireNonEmpty(DataSource source, String argument) {
        if (source == null) {
            throw new IllegalArgumentException(argument + ": must not be null");
        }
        if (source.size() <= 0) {
            throw new IllegalArgumentException(argument + ": is empty; pass at least one sample");
        }
    }

    /**
     * Streams {@code train} in chunks of {@code chunkSize} through {@code scorer} and a
     * {@link StreamingTopK}.
     *
     * @param m number of test points
     * @throws IllegalArgumentException if k is out of range
     */
    public static TopK streamTopK(int m, DataSource train, int k, TopKOrder order, int chunkSize,
                                  TensorScope scope, BlockScorer scorer) {
        return streamTopK(m, train, k, List.of(order), chunkSize, scope, scorer).get(0);
    }

    /**
     * Streams {@code train} once through {@code scorer}, each block feeding one
     * {@link StreamingTopK} per order (e.g. proponents and opponents from the same scores).
     *
     * @param m number of test points
     * @return one selection per order, in the order of {@code orders}
     * @throws IllegalArgumentException if k is out of range or {@code orders} is empty
     */
    public static List<TopK> streamTopK(int m, DataSource train, int k, List<TopKOrder> orders, int chunkSize,
                                        TensorScope scope, BlockScorer scorer) {
        requireNonEmpty(train, "train");
        requireK(k, train.size());
        if (orders == null || orders.isEmpty()) {
            throw new IllegalArgumentException("orders: give at least one order");
        }
        List<StreamingTopK> selections = new ArrayList<>(orders.size());
        for (TopKOrder order : orders) {
            selections.add(new StreamingTopK(m, k, order));
        }
        long offset = 0;
        Iterator<Batch> chunks = train.batches(chunkSize);
        while (chunks.hasNext()) {
            Batch chunk = chunks.next();
            try (TensorScope work = scope.newChild()) {
                double[] block = scorer.scores(chunk, offset, work).toDoubleArray();
                for (StreamingTopK selection : selections) {
                    selection.accept(block, chunk.size(), offset);
                }
            }
            offset += chunk.size();
        }
        List<TopK> out = new ArrayList<>(orders.size());
        for (StreamingTopK selection : selections) {
            out.add(selection.result(offset));
        }
        return out;
    }
}
