package org.influence4j.calculators.chunked;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives progress of a chunked run after each finished chunk (and once at the start).
 * Calls are serialized (never concurrent) but may come from worker threads; keep them short.
 */
@FunctionalInterface
public interface ProgressListener {

    /** A listener that ignores everything. */
    ProgressListener NONE = p -> { };

    /** Called with the current state. */
    void onProgress(Progress progress);

    /**
     * @param intervalMillis minimum time between two log lines (the last chunk is always logged)
     * @return a listener that logs progress at INFO through SLF4J
     */
    static ProgressListener logging(long intervalMillis) {
        Logger log = LoggerFactory.getLogger(ProgressListener.class);
        long[] last = {Long.MIN_VALUE};
        return p -> {
            long now = System.nanoTime();
            if (p.completed() == p.total() || last[0] == Long.MIN_VALUE || now - last[0] >= intervalMillis * 1_000_000L) {
                last[0] = now;
                log.info("{}", p);
            }
        };
    }
}
