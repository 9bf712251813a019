package org.influence4j.calculators.training;

import java.util.List;

/**
 * The outcome of a training run.
 *
 * @param parameters   the final flat parameters θ
 * @param loss         the objective J(θ) at the end (full pass, including the l2 term)
 * @param gradientNorm ‖∇J(θ)‖ at the end (full pass)
 * @param iterations   iterations (Newton/L-BFGS) or optimizer steps (minibatch trainers)
 * @param converged    whether the gradient-norm tolerance was met (always false for minibatch
 *                     trainers without a tolerance)
 * @param checkpoints  the checkpoints written, in epoch order (empty if none)
 */
public record TrainingResult(double[] parameters, double loss, double gradientNorm, int iterations,
                             boolean converged, List<Checkpoint> checkpoints) {

    /** @throws IllegalArgumentException if parameters are null */
    public TrainingResult {
        if (parameters == null) {
            throw new IllegalArgumentException("parameters: must not be null");
        }
        parameters = parameters.clone();
        checkpoints = checkpoints == null ? List.of() : List.copyOf(checkpoints);
    }

    /** @return a copy of θ */
    @Override
    public double[] parameters() {
        return parameters.clone();
    }

    @Override
    public String toString() {
        return "TrainingResult[loss=" + loss + ", gradientNorm=" + gradientNorm + ", iterations=" + iterations
                + ", converged=" + converged + ", checkpoints=" + checkpoints.size() + "]";
    }
}
