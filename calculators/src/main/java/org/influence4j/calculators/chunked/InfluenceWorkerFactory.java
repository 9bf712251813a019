package org.influence4j.calculators.chunked;

import java.io.Serializable;

/**
 * Builds a fresh, fitted {@link InfluenceWorker} (its own model instance) for each worker thread
 * or Spark task: thread-safe parallelism without sharing a model that is not thread-safe.
 * Serializable so that Spark can broadcast it; {@link #create()} runs on the worker.
 */
public interface InfluenceWorkerFactory extends Serializable {

    /** Creates the worker's model; a serializable lambda. */
    @FunctionalInterface
    interface Creator extends Serializable {
        /** @return a new fitted worker that owns its models */
        InfluenceWorker create();
    }

    /** @return p, the number of model parameters (known without building a model) */
    int numParameters();

    /** @return a new worker, owned by the caller (close it) */
    InfluenceWorker create();

    /**
     * @param numParameters p
     * @param creator       builds one worker per call
     * @throws IllegalArgumentException if {@code numParameters <= 0} or {@code creator} is null
     */
    static InfluenceWorkerFactory of(int numParameters, Creator creator) {
        if (numParameters <= 0) {
            throw new IllegalArgumentException("numParameters: must be > 0, got " + numParameters);
        }
        if (creator == null) {
            throw new IllegalArgumentException("creator: must not be null");
        }
        return new InfluenceWorkerFactory() {
            private static final long serialVersionUID = 1L;

            @Override
            public int numParameters() {
                return numParameters;
            }

            @Override
            public InfluenceWorker create() {
                return creator.create();
            }
        };
    }
}
