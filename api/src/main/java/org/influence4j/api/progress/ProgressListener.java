package org.influence4j.api.progress;

/**
 * The one progress vocabulary of influence4j: a long computation (an EK-FAC fit, a self-influence
 * or top-k pass, TracIn over checkpoints, training) announces a task with its number of steps,
 * reports steps as they complete, and says when the task ends. Passed through the option records
 * of the computations (e.g. {@code EkfacOptions.withProgress}); {@link #NONE} by default.
 *
 * <p>Calls come from the computing thread, in the order started, step*, finished; a computation
 * may run several tasks one after another (e.g. a fit, then the scores), never nested. Steps are
 * counted in the task's own unit (chunks, samples, epochs), named by the task. Implementations must
 * be quick and must not throw.
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

    /** @param steps how many more steps of the current task are done (≥ 1) */
    default void step(long steps) {
    }

    /** The current task ended, normally or by an exception. */
    default void finished() {
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
