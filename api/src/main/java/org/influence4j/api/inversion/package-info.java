/**
 * Applying the inverse Hessian: the {@link org.influence4j.api.inversion.HessianOperator} (H + λI of
 * the mean training loss, or the Gauss-Newton matrix plus λI: see
 * {@link org.influence4j.api.inversion.Curvature}), {@link org.influence4j.api.inversion.InverseHvpSolver solvers} that
 * prepare an {@link org.influence4j.api.inversion.InverseHessian}, their results with diagnostics,
 * and the {@link org.influence4j.api.inversion.InversionRegistry} keyed by (model type, method),
 * modelled on pyDVL's {@code InversionRegistry}.
 */
package org.influence4j.api.inversion;
