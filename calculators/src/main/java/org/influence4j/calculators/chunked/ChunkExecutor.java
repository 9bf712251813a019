package org.influence4j.calculators.chunked;

import java.util.List;

/**
 * Runs the blocks of a {@link ChunkComputation}: in the calling thread, on a thread pool, or on a
 * distributed engine. Each computed block goes to {@link ChunkSink#accept} (or the sink's remote
 * writer), after which {@link ProgressTracker#chunkDone} is called.
 */
public interface ChunkExecutor {

    /**
     * Computes the blocks {@code todo} of {@code computation}.
     *
     * @throws ChunkFailedException if a block fails (blocks written before stay written)
     * @throws java.util.concurrent.CancellationException if the calling thread is interrupted
     */
    void execute(ChunkComputation computation, List<ChunkIndex> todo, ChunkSink sink, ProgressTracker progress);
}
