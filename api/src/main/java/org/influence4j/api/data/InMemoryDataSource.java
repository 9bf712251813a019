package org.influence4j.api.data;

import java.util.Iterator;
import java.util.NoSuchElementException;

/** A {@link DataSource} over one in-memory {@link Batch}. */
public final class InMemoryDataSource implements DataSource {

    private final Batch data;

    /**
     * @param data all samples
     * @throws IllegalArgumentException if the batch is empty
     */
    public InMemoryDataSource(Batch data) {
        if (data == null || data.size() == 0) {
            throw new IllegalArgumentException("data: a data source needs at least one sample");
        }
        this.data = data;
    }

    @Override
    public long size() {
        return data.size();
    }

    @Override
    public int numFeatures() {
        return data.numFeatures();
    }

    @Override
    public int labelWidth() {
        return data.labelWidth();
    }

    @Override
    public Batch readAll() {
        return data;
    }

    @Override
    public Iterator<Batch> batches(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be positive, got " + batchSize);
        }
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < data.size();
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int from = next;
                next = Math.min(data.size(), next + batchSize);
                return from == 0 && next == data.size() ? data : data.slice(from, next);
            }
        };
    }
}
