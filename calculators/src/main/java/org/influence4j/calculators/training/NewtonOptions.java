package org.influence4j.calculators.training;

/**
 * Settings of the {@link NewtonTrainer}.
 *
 * @param tolerance     stop when {@code ‖∇J‖ < tolerance}, &gt; 0 (default 1e-8, for float64 models)
 * @param maxIterations Newton steps at most, positive (default 100)
 */
public record NewtonOptions(double tolerance, int maxIterations) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public NewtonOptions {
        FullBatchRun.requireStoppingRule(tolerance, maxIterations);
    }

    /** @return tolerance 1e-8, at most 100 steps */
    public static NewtonOptions defaults() {
        return new NewtonOptions(1e-8, 100);
    }
}
