package org.influence4j.calculators.training;

/**
 * Settings of the {@link LbfgsTrainer}.
 *
 * @param memory        number of correction pairs kept, positive (default 10)
 * @param tolerance     stop when {@code ‖∇J‖ < tolerance}, &gt; 0 (default 1e-8)
 * @param maxIterations iterations at most, positive (default 1000)
 */
public record LbfgsOptions(int memory, double tolerance, int maxIterations) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public LbfgsOptions {
        if (memory <= 0) {
            throw new IllegalArgumentException("memory: must be > 0, got " + memory);
        }
        FullBatchRun.requireStoppingRule(tolerance, maxIterations);
    }

    /** @return memory 10, tolerance 1e-8, at most 1000 iterations */
    public static LbfgsOptions defaults() {
        return new LbfgsOptions(10, 1e-8, 1000);
    }
}
