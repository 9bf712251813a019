/**
 * Trainers that bring a {@link org.influence4j.api.TwiceDifferentiable} model to the optimum that
 * influence functions assume, and record the checkpoints that TracIn-style methods read.
 *
 * <p>All trainers minimise the {@link org.influence4j.calculators.training.Objective}
 * {@code J(θ) = (1/N) Σ_i ℓ_i(θ) + (l2/2)‖θ‖²}, where N (the loss normalizer) defaults to the
 * number of samples; keeping N fixed while removing a sample gives leave-one-out retraining with
 * the same scaling as the full problem. At an optimum of J, the Hessian of J is exactly the
 * {@link org.influence4j.calculators.inversion.DataHessianOperator} with regularization λ = l2
 * (when N equals the number of samples). Second-order trainers ({@link
 * org.influence4j.calculators.training.NewtonTrainer}, {@link
 * org.influence4j.calculators.training.LbfgsTrainer}) work on the host in double precision; the
 * {@link org.influence4j.calculators.training.MinibatchTrainer} runs SGD or Adam and writes
 * {@link org.influence4j.calculators.training.Checkpoint}s.
 */
package org.influence4j.calculators.training;
