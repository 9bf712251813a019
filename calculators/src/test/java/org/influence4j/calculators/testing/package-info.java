/**
 * A tiny pure-Java reference backend for the calculators' tests: {@link HostBackend},
 * {@link HostScope}, {@link HostTensor} over {@code double[]} and {@link HostModel}, a
 * {@link org.influence4j.api.TwiceDifferentiable} for single-Dense-layer models (linear regression
 * with MSE, logistic regression, softmax regression) with closed-form per-sample gradients,
 * Hessians and Hessian-vector products.
 */
package org.influence4j.calculators.testing;
