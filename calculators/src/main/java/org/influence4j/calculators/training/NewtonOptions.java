package org.influence4j.calculators.training;

import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of the {@link NewtonTrainer}.
 *
 * @param tolerance     stop when {@code ‖∇J‖ < tolerance}, &gt; 0 (default 1e-8, for float64 models)
 * @param maxIterations Newton steps at most, positive (default 100)
 * @param progress      receives the task "Newton" with one step per iteration (at most
 *                      {@code maxIterations}; it finishes early on convergence);
 *                      {@link ProgressListener#NONE} by default
 */
public record NewtonOptions(double tolerance, int maxIterations, ProgressListener progress) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public NewtonOptions {
        FullBatchRun.requireStoppingRule(tolerance, maxIterations, progress);
    }

    /** Options without progress reporting. */
    public NewtonOptions(double tolerance, int maxIterations) {
        this(tolerance, maxIterations, ProgressListener.NONE);
    }

    /** @return tolerance 1e-8, at most 100 steps */
    public static NewtonOptions defaults() {
        return new NewtonOptions(1e-8, 100);
    }

    /** @return a copy reporting progress to {@code listener} */
    public NewtonOptions withProgress(ProgressListener listener) {
        return new NewtonOptions(tolerance, maxIterations, listener);
    }
}
