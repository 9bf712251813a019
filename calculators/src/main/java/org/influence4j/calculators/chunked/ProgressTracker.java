package org.influence4j.calculators.chunked;

import java.time.Duration;
import java.util.Optional;

/**
 * Counts finished chunks of one run and informs a {@link ProgressListener}; thread-safe. Used by
 * the chunk executors (local and distributed).
 */
public final class ProgressTracker {

    private final long total;
    private final long skipped;
    private final ProgressListener listener;
    private final long start = System.nanoTime();
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

    /** Reports the starting state. */
    public synchronized void started() {
        listener.onProgress(snapshot());
    }

    /** Records one computed chunk and reports. */
    public synchronized void chunkDone() {
        computed++;
        listener.onProgress(snapshot());
    }

    /** @return chunks computed in this run so far */
    public synchronized long computed() {
        return computed;
    }

    private Progress snapshot() {
        long nanos = System.nanoTime() - start;
        double seconds = nanos / 1e9;
        double rate = computed == 0 || seconds <= 0 ? 0 : computed / seconds;
        long remaining = total - skipped - computed;
        Optional<Duration> eta = rate > 0 ? Optional.of(Duration.ofMillis((long) (1000 * remaining / rate)))
                : Optional.empty();
        return new Progress(skipped + computed, total, skipped, Duration.ofNanos(nanos), rate, eta);
    }
}
