package org.influence4j.calculators.training;

import org.influence4j.api.progress.ProgressListener;

import java.util.List;
import org.slf4j.Logger;

/**
 * The frame shared by the full-batch trainers ({@link NewtonTrainer}, {@link LbfgsTrainer}): it
 * checks the starting point, evaluates J there, applies the stopping rule
 * {@code ‖∇J‖ < tolerance} after every accepted step, counts iterations and, at the end, leaves
 * the objective's model at the result and reports it. Not thread-safe.
 */
final class FullBatchRun implements AutoCloseable {

    private final Objective objective;
    private final double tolerance;
    private final int maxIterations;
    private final ProgressListener progress;
    private double[] theta;
    private Objective.ValueAndGradient current;
    private int iteration;
    private boolean converged;

    /**
     * Evaluates J at {@code initial}.
     *
     * @throws IllegalArgumentException naming {@code initial} if it has the wrong length
     */
    FullBatchRun(Objective objective, double[] initial, double tolerance, int maxIterations, ProgressListener progress,
                 String name) {
        int p = objective.dimension();
        if (initial == null || initial.length != p) {
            throw new IllegalArgumentException("initial: must have length " + p);
        }
        this.objective = objective;
        this.tolerance = tolerance;
        this.maxIterations = maxIterations;
        this.theta = initial.clone();
        this.current = objective.valueAndGradient(theta);
        this.converged = current.gradientNorm() < tolerance;
        this.progress = progress;
        progress.started(name, maxIterations);
    }

    /**
     * The checks of the trainers' options records.
     *
     * @throws IllegalArgumentException naming {@code tolerance} or {@code maxIterations} if out of range
     */
    static void requireStoppingRule(double tolerance, int maxIterations, ProgressListener progress) {
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        if (!(tolerance > 0) || Double.isInfinite(tolerance)) {
            throw new IllegalArgumentException("tolerance: must be a finite number > 0, got " + tolerance);
        }
        if (maxIterations <= 0) {
            throw new IllegalArgumentException("maxIterations: must be > 0, got " + maxIterations);
        }
    }

    /** @return whether to go on: not converged and below the iteration limit */
    boolean running() {
        return !converged && iteration < maxIterations;
    }

    /** @return the current parameters (not a copy) */
    double[] theta() {
        return theta;
    }

    /** @return J and ∇J at {@link #theta()} */
    Objective.ValueAndGradient current() {
        return current;
    }

    /** @return the iterations counted so far */
    int iteration() {
        return iteration;
    }

    /** Counts one more iteration and reports it as a step. */
    void countIteration() {
        iteration++;
        progress.step(1);
    }

    /** Ends the progress task (also when the run fails). */
    @Override
    public void close() {
        progress.finished();
    }

    /** Moves to the step's point and applies the stopping rule there. */
    void accept(LineSearch.Step step) {
        theta = step.theta();
        current = step.evaluation();
        converged = current.gradientNorm() < tolerance;
    }

    /** Logs that the line search of trainer {@code name} failed; the caller then stops. */
    void lineSearchFailed(Logger log, String name) {
        log.warn("{} line search failed at iteration {} with ‖∇J‖ = {}; stopping", name, iteration,
                current.gradientNorm());
    }

    /** Leaves the model at {@link #theta()}, warns if trainer {@code name} did not converge, and reports. */
    TrainingResult finish(Logger log, String name) {
        objective.model().setParameters(theta);
        if (!converged) {
            log.warn("{} stopped after {} iterations with ‖∇J‖ = {} >= tolerance {}", name, iteration,
                    current.gradientNorm(), tolerance);
        }
        return new TrainingResult(theta, current.value(), current.gradientNorm(), iteration, converged, List.of());
    }
}
