package org.influence4j.calculators.chunked;

import java.util.List;
import java.util.concurrent.CancellationException;

/**
 * Computes blocks one after another in the calling thread (pyDVL's
 * {@code SequentialInfluenceCalculator}), in row-major block order. Any model works, thread-safe
 * or not. An interrupt of the calling thread stops the run before the next block
 * ({@link CancellationException}); blocks already in the sink stay there.
 */
public final class SequentialInfluenceCalculator implements ChunkedInfluenceCalculator, ChunkExecutor {

    private final InfluenceWorker worker;

    /**
     * @param worker the fitted model to compute with (not closed by this calculator)
     * @throws IllegalArgumentException if {@code worker} is null
     */
    public SequentialInfluenceCalculator(InfluenceWorker worker) {
        if (worker == null) {
            throw new IllegalArgumentException("worker: must not be null; use InfluenceWorker.shared(influenceModel)");
        }
        this.worker = worker;
    }

    @Override
    public int numParameters() {
        return worker.numParameters();
    }

    @Override
    public ChunkExecutor executor() {
        return this;
    }

    @Override
    public void execute(ChunkComputation computation, List<ChunkIndex> todo, ChunkSink sink,
            ProgressTracker progress) {
        for (ChunkIndex index : todo) {
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException("interrupted after " + progress.computed() + " chunks; rerun with the"
                        + " same sink to compute only the missing ones");
            }
            try {
                sink.accept(computation.compute(index, worker));
            } catch (RuntimeException | Error e) {
                throw new ChunkFailedException(index, e);
            }
            progress.chunkDone();
        }
    }

    @Override
    public String toString() {
        return "SequentialInfluenceCalculator[" + worker.model() + "]";
    }
}
