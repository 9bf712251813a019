/**
 * Inverse Hessian-vector product solvers over the {@link org.influence4j.api.inversion.HessianOperator}
 * contract: the data-averaged operator {@link org.influence4j.calculators.inversion.DataHessianOperator}
 * ({@code A = (1/n) Σ_i ∇²ℓ_i + λI}, the mean-loss convention of pyDVL),
 * {@link org.influence4j.calculators.inversion.DirectSolver} (dense factorisation on the host) and
 * {@link org.influence4j.calculators.inversion.ConjugateGradientSolver} (block conjugate gradient
 * in lockstep). Both solvers are registered as
 * {@link org.influence4j.api.inversion.InverseHvpSolverFactory} services.
 */
package org.influence4j.calculators.inversion;
