/**
 * Backend-agnostic algorithms of influence4j: the curvature operator and inverse Hessian-vector
 * product solvers ({@link org.influence4j.calculators.inversion}), influence function models
 * including EK-FAC ({@link org.influence4j.calculators.influence}), the attribution interface every
 * method answers, with its adapter for influence functions, first-order influence and top-k
 * ({@link org.influence4j.calculators.attribution}), the TracIn family
 * ({@link org.influence4j.calculators.tracin}), trainers that bring a model to the optimum the
 * influence definitions assume ({@link org.influence4j.calculators.training}), checks against
 * retraining ({@link org.influence4j.calculators.validation}) and the sequential and parallel chunked
 * calculators with their sinks ({@link org.influence4j.calculators.chunked}), and helpers the
 * packages share ({@link org.influence4j.calculators.internal}, not an API). Nothing here depends
 * on a tensor backend: every computation goes through the {@code influence4j-api} contracts. The
 * module map and the data flow of a query: {@code docs/ARCHITECTURE.md}.
 */
package org.influence4j.calculators;
