package org.influence4j.api.progress;

/**
 * The one progress vocabulary of influence4j: a long computation (an EK-FAC fit, a self-influence
 * or top-k pass, TracIn over checkpoints, training) announces a task with its number of steps,
 * reports steps as they complete, and says when the task ends. Passed through the option records
 * of the computations (e.g. {@code EkfacOptions.withProgress}); {@link #NONE} by default.
 *
 * <p>Calls come in the order started, resumed?, step*, finished, never concurrently (the chunked
 * calculators call from their worker threads, one call at a time); a computation may run several
 * tasks one after another (e.g. a fit, then the scores), never nested. Steps are counted in the
 * task's own unit (chunks, samples, epochs), named by the task. A resumed computation (a Zarr store
 * of an interrupted run) reports the steps an earlier run completed with {@link #resumed}.
 * Implementations must be quick and must not throw.
 */
public interface ProgressListener {

    /** Ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /**
     * A task begins.
     *
     * @param task       what is computed, e.g. {@code "EK-FAC factors"}
     * @param totalSteps how many steps the task has, or 0 if unknown
     */
    default void started(String task, long totalSteps) {
    }

    /**
     * Steps of the current task that an earlier run completed (a resumed computation); called at
     * most once, right after {@link #started}. By default counted as {@link #step done steps}.
     *
     * @param steps how many steps were already done (≥ 1)
     */
    default void resumed(long steps) {
        step(steps);
    }

    /** @param steps how many more steps of the current task are done (≥ 1) */
    default void step(long steps) {
    }

    /** The current task ended, normally or by an exception. */
    default void finished() {
    }

    /**
     * A listener that logs each task at INFO through SLF4J: its start, then its progress (steps
     * done of the total, steps per second, estimated time left) at most every {@code intervalMillis}
     * and when the last step is done.
     *
     * @param intervalMillis the least time between two progress lines, ≥ 0
     */
    static ProgressListener logging(long intervalMillis) {
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("intervalMillis: must be >= 0, got " + intervalMillis);
        }
        return new LoggingProgressListener(intervalMillis);
    }

    /**
     * Runs {@code body} as a task: {@link #started}, then the body (which reports its steps), then
     * {@link #finished} also when the body throws.
     *
     * @return the body's result
     */
    default <T> T task(String task, long totalSteps, java.util.function.Supplier<T> body) {
        started(task, totalSteps);
        try {
            return body.get();
        } finally {
            finished();
        }
    }
}
