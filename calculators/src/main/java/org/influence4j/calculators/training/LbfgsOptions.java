package org.influence4j.calculators.training;

import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of the {@link LbfgsTrainer}.
 *
 * @param memory        number of correction pairs kept, positive (default 10)
 * @param tolerance     stop when {@code ‖∇J‖ < tolerance}, &gt; 0 (default 1e-8)
 * @param maxIterations iterations at most, positive (default 1000)
 * @param progress      receives the task "L-BFGS" with one step per iteration (at most
 *                      {@code maxIterations}; it finishes early on convergence);
 *                      {@link ProgressListener#NONE} by default
 */
public record LbfgsOptions(int memory, double tolerance, int maxIterations, ProgressListener progress) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public LbfgsOptions {
        if (memory <= 0) {
            throw new IllegalArgumentException("memory: must be > 0, got " + memory);
        }
        FullBatchRun.requireStoppingRule(tolerance, maxIterations, progress);
    }

    /** Options without progress reporting. */
    public LbfgsOptions(int memory, double tolerance, int maxIterations) {
        this(memory, tolerance, maxIterations, ProgressListener.NONE);
    }

    /** @return memory 10, tolerance 1e-8, at most 1000 iterations */
    public static LbfgsOptions defaults() {
        return new LbfgsOptions(10, 1e-8, 1000);
    }

    /** @return a copy reporting progress to {@code listener} */
    public LbfgsOptions withProgress(ProgressListener listener) {
        return new LbfgsOptions(memory, tolerance, maxIterations, listener);
    }
}
