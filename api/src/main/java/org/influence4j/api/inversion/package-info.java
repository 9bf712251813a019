/**
 * Applying the inverse Hessian: the {@link org.influence4j.api.inversion.HessianOperator} (H + λI of
 * the mean training loss, or the Gauss-Newton matrix plus λI: see
 * {@link org.influence4j.api.inversion.Curvature}), {@link org.influence4j.api.inversion.InverseHvpSolver solvers} that
 * prepare an {@link org.influence4j.api.inversion.InverseHessian}, their results with diagnostics,
 * and the {@link org.influence4j.api.inversion.InversionRegistry} keyed by (model type, method),
 * modelled on pyDVL's {@code InversionRegistry}. Method names are open
 * ({@link org.influence4j.api.inversion.InversionMethod}): a solver factory in a plugin jar can add
 * one. Each factory declares its settings once as
 * {@link org.influence4j.api.inversion.Setting}s; failures are
 * {@link org.influence4j.api.inversion.InversionException}s with a typed reason; an iterative
 * method that misses its tolerance is one ({@code NOT_CONVERGED}) unless its
 * {@link org.influence4j.api.inversion.SolverSettings#ALLOW_UNCONVERGED} setting keeps the numbers,
 * recorded as {@code converged = false} in {@link org.influence4j.api.inversion.SolverInfo}.
 */
package org.influence4j.api.inversion;
