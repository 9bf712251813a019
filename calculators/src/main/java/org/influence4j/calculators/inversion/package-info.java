/**
 * Inverse Hessian-vector product solvers over the {@link org.influence4j.api.inversion.HessianOperator}
 * contract: the data-averaged operator {@link org.influence4j.calculators.inversion.DataHessianOperator}
 * ({@code A = (1/n) Σ_i ∇²ℓ_i + λI}, the mean-loss convention of pyDVL, or the Gauss-Newton matrix
 * plus λI), its dense {@link org.influence4j.calculators.inversion.PrecomputedHessianOperator} and,
 * for the Gauss-Newton matrix, its square-root factors
 * {@link org.influence4j.calculators.inversion.FactoredGaussNewtonOperator} (what a precompute option keeps);
 * {@link org.influence4j.calculators.inversion.DirectSolver} (dense factorisation on the host),
 * {@link org.influence4j.calculators.inversion.ConjugateGradientSolver} (lockstep or block CG,
 * optionally with a {@link org.influence4j.calculators.inversion.JacobiPreconditioner} or
 * {@link org.influence4j.calculators.inversion.NystroemPreconditioner}),
 * {@link org.influence4j.calculators.inversion.LissaSolver},
 * {@link org.influence4j.calculators.inversion.ArnoldiSolver} (thick-restart Lanczos) and
 * {@link org.influence4j.calculators.inversion.NystroemSolver} (sketch + Woodbury), the last two
 * returning a {@link org.influence4j.calculators.inversion.LowRankInverse}. Every solver is
 * registered as an {@link org.influence4j.api.inversion.InverseHvpSolverFactory} service. Small
 * dense matrices (k x k projections, Gram matrices) are factorised with EJML on the host.
 *
 * <p>Regularization: every solver inverts {@code A = H + λI}. Arnoldi and Nyström approximate the
 * unregularized H and add λ to its kept eigenvalues, as pyDVL does; Arnoldi drops the directions
 * outside the kept eigenspace, Nyström scales them by 1/λ (Woodbury).
 *
 * <p>Convergence is a result: an iterative solve (CG and block CG judged by the true residual
 * {@code b − A x} with float64 norms, LiSSA, Arnoldi's Lanczos) that misses its tolerance throws an
 * {@link org.influence4j.api.inversion.InversionException} with reason {@code NOT_CONVERGED} unless
 * its options allow unconverged solves ({@code allow_unconverged}), which keeps the numbers and
 * records {@code converged = false}; Direct refuses a numerically singular matrix ({@code SINGULAR},
 * by a condition number estimate) and an indefinite one ({@code NEGATIVE_CURVATURE}) unless
 * {@code allow_indefinite}. The messages give the residual, the estimate or the eigenvalue, and the
 * λ or iterations that would fix it.
 */
package org.influence4j.calculators.inversion;
