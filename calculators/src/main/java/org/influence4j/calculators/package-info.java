/**
 * Backend-agnostic algorithms of influence4j: inverse Hessian-vector product solvers
 * ({@link org.influence4j.calculators.inversion}), influence function models
 * ({@link org.influence4j.calculators.influence}) and trainers that bring a model to the optimum
 * the influence definitions assume ({@link org.influence4j.calculators.training}). Nothing here
 * depends on a tensor backend: every computation goes through the {@code influence4j-api}
 * contracts.
 */
package org.influence4j.calculators;
