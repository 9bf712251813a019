package org.influence4j.calculators.chunked;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.progress.ProgressListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chunked result that is not computed yet (pyDVL's {@code LazyChunkSequence} /
 * {@code NestedLazyChunkSequence}). Nothing runs until {@link #compute} (pull everything into
 * memory) or {@link #writeTo} (stream block by block to a sink). Each call computes again; with a
 * persistent sink, blocks already complete there are skipped (resume).
 */
public final class LazyChunkSequence {

    private static final Logger LOG = LoggerFactory.getLogger(LazyChunkSequence.class);

    private final ChunkComputation computation;
    private final ChunkExecutor executor;

    /**
     * @param computation what to compute
     * @param executor    how to run the blocks
     */
    public LazyChunkSequence(ChunkComputation computation, ChunkExecutor executor) {
        if (computation == null || executor == null) {
            throw new IllegalArgumentException("computation and executor must not be null");
        }
        this.computation = computation;
        this.executor = executor;
    }

    /** @return the result's shape and block grid */
    public ChunkLayout layout() {
        return computation.layout();
    }

    /** @return the description of the computation */
    public ChunkComputation computation() {
        return computation;
    }

    /**
     * Computes every block into one array in memory (pyDVL's {@code compute(aggregator=...)}).
     *
     * @return the full result in double precision, shape {@link ChunkLayout#shape()}
     * @throws IllegalArgumentException if the result has more than {@code Integer.MAX_VALUE} elements
     */
    public HostArray compute() {
        return compute(ProgressListener.NONE);
    }

    /**
     * As {@link #compute()}, reporting progress: one task, {@code "influence blocks"}, whose steps
     * are the blocks (those already complete in a resumed sink through
     * {@link ProgressListener#resumed}).
     */
    public HostArray compute(ProgressListener listener) {
        return writeTo(new InMemorySink(), listener).result();
    }

    /** Streams the blocks into a Zarr v2 array at {@code path} with default options (pyDVL's {@code to_zarr}). */
    public ZarrSink toZarr(Path path) {
        return writeTo(ZarrSink.create(path, ZarrSink.Options.defaults()), ProgressListener.NONE);
    }

    /** Streams every block to {@code sink}; returns it. */
    public <S extends ChunkSink> S writeTo(S sink) {
        return writeTo(sink, ProgressListener.NONE);
    }

    /**
     * Streams every block that {@code sink} does not hold yet to it, reporting progress as
     * {@link #compute(ProgressListener)}.
     *
     * @return {@code sink}
     * @throws IllegalStateException if the sink holds incompatible data
     * @throws ChunkFailedException  if a block fails (stored blocks stay stored; rerun to resume)
     */
    public <S extends ChunkSink> S writeTo(S sink, ProgressListener listener) {
        if (sink == null) {
            throw new IllegalArgumentException("sink: must not be null");
        }
        ChunkLayout layout = computation.layout();
        sink.open(layout);
        List<ChunkIndex> todo = new ArrayList<>();
        for (ChunkIndex index : layout.indices()) {
            if (!sink.isComplete(index)) {
                todo.add(index);
            }
        }
        long skipped = layout.numChunks() - todo.size();
        if (skipped > 0) {
            LOG.info("resuming {}: {} of {} chunks are complete in {}, computing {}", computation, skipped,
                    layout.numChunks(), sink, todo.size());
        }
        ProgressTracker progress = new ProgressTracker(layout.numChunks(), skipped, listener);
        progress.started("influence blocks");
        try {
            if (!todo.isEmpty()) {
                executor.execute(computation, todo, sink, progress);
            }
        } finally {
            progress.finished();
        }
        sink.finish();
        return sink;
    }

    @Override
    public String toString() {
        return "LazyChunkSequence[" + computation + "]";
    }
}
