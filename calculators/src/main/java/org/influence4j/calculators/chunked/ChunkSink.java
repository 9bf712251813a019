package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.Optional;

/**
 * Where the blocks of a chunked result go: memory, a chunked on-disk array, a streaming
 * reduction. The calculator calls {@link #open} once, asks {@link #isComplete} for every block
 * (complete blocks are skipped: a rerun resumes), then calls {@link #accept} once per computed
 * block, possibly from several threads at once, in any order, and finally {@link #finish}.
 */
public interface ChunkSink {

    /** Writes single chunks on a Spark executor (or any other process); serializable. */
    @FunctionalInterface
    interface RemoteWriter extends Serializable {
        /** Stores {@code chunk} durably (atomically). */
        void write(Chunk chunk);
    }

    /**
     * Prepares the sink for a result of this layout.
     *
     * @throws IllegalArgumentException if the sink cannot hold this layout
     * @throws IllegalStateException    if the sink already holds incompatible data (e.g. an on-disk
     *                                  array with another shape), naming what differs
     * @throws java.io.UncheckedIOException if storage fails
     */
    void open(ChunkLayout layout);

    /** @return whether block {@code index} is already stored completely (and need not be computed) */
    default boolean isComplete(ChunkIndex index) {
        return false;
    }

    /**
     * Takes one block. Thread-safe.
     *
     * @throws java.io.UncheckedIOException if storage fails
     */
    void accept(Chunk chunk);

    /**
     * @return a writer that executors may call instead of sending blocks back to the driver;
     *     empty if blocks must come through {@link #accept}
     */
    default Optional<RemoteWriter> remoteWriter() {
        return Optional.empty();
    }

    /** Called once after every block has been accepted. */
    default void finish() {
    }
}
