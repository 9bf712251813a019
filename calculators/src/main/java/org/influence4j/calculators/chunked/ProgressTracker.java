package org.influence4j.calculators.chunked;

import org.influence4j.api.progress.ProgressListener;

/**
 * Reports the chunks of one run to a {@link ProgressListener} as one task whose steps are chunks:
 * {@code started(task, total)}, {@code resumed(skipped)} when chunks were already complete,
 * {@code step(1)} per computed chunk, {@code finished()}; thread-safe (calls to the listener are
 * serialized). Used by the chunk executors (local and distributed).
 */
public final class ProgressTracker {

    private final long total;
    private final long skipped;
    private final ProgressListener listener;
    private long computed;

    /**
     * @param total    chunks of the whole result
     * @param skipped  chunks already complete before this run
     * @param listener receives the updates
     */
    public ProgressTracker(long total, long skipped, ProgressListener listener) {
        if (total < 0 || skipped < 0 || skipped > total) {
            throw new IllegalArgumentException("progress: need 0 <= skipped <= total, got " + skipped + ", " + total);
        }
        this.total = total;
        this.skipped = skipped;
        this.listener = listener == null ? ProgressListener.NONE : listener;
    }

    /** Starts the task {@code name} and reports the chunks complete before this run. */
    public synchronized void started(String name) {
        listener.started(name, total);
        if (skipped > 0) {
            listener.resumed(skipped);
        }
    }

    /** Records one computed chunk and reports it. */
    public synchronized void chunkDone() {
        computed++;
        listener.step(1);
    }

    /** Ends the task (also after a failure). */
    public synchronized void finished() {
        listener.finished();
    }

    /** @return chunks computed in this run so far */
    public synchronized long computed() {
        return computed;
    }
}
