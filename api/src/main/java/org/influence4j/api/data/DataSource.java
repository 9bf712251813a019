package org.influence4j.api.data;

import java.util.Iterator;

/**
 * A re-iterable data set read in chunks. Every call of {@link #batches(int)} starts a new pass
 * from the first sample; chunks have {@code batchSize} samples except possibly the last.
 * Implementations are safe to iterate from several threads at once (each iterator is independent).
 */
public interface DataSource {

    /** @return n, the number of samples (at least 1) */
    long size();

    /** @return features per sample */
    int numFeatures();

    /** @return labels per sample */
    int labelWidth();

    /**
     * Starts a pass over the data.
     *
     * @param batchSize samples per chunk, positive
     * @throws IllegalArgumentException if {@code batchSize <= 0}
     */
    Iterator<Batch> batches(int batchSize);

    /**
     * Reads every sample into one batch.
     *
     * @throws IllegalStateException if the data set has more than {@code Integer.MAX_VALUE} values
     */
    default Batch readAll() {
        if (size() * Math.max(numFeatures(), labelWidth()) > Integer.MAX_VALUE) {
            throw new IllegalStateException("data source of " + size() + " samples is too large to read into memory");
        }
        Iterator<Batch> it = batches((int) size());
        Batch all = it.next();
        while (it.hasNext()) {
            all = all.concat(it.next());
        }
        return all;
    }
}
