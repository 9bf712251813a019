/**
 * The layer graph ({@link org.influence4j.api.model.ModelGraph}) computed once for every backend:
 * a backend supplies about twenty primitive {@link org.influence4j.graph.Kernels} and gets the
 * forward pass, losses, gradients, batched per-sample gradients, exact Hessian-vector products,
 * Gauss-Newton-vector products and mixed derivatives from
 * {@link org.influence4j.graph.GraphDerivatives}, through {@link org.influence4j.graph.Autodiff}
 * (reverse mode with double backward, and forward mode: Hessian-vector products forward over
 * reverse, the {@code J v} of Gauss-Newton products);
 * {@link org.influence4j.graph.AbstractGraphModel} turns that into a whole
 * {@link org.influence4j.api.TwiceDifferentiable} given memory contexts and tensor copies. Adding a
 * layer type means describing the node in {@code api} ({@link org.influence4j.api.model.GraphNode},
 * {@link org.influence4j.api.model.ModelGraph}, {@link org.influence4j.api.model.ModelGraphJson}) and
 * adding its forward computation to {@link org.influence4j.graph.GraphEvaluator} in terms of recorded
 * operations; its derivatives follow (the recipe, with the tests to copy: {@code docs/ARCHITECTURE.md}).
 */
package org.influence4j.graph;
