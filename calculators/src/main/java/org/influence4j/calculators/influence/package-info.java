/**
 * Influence function models built on an inverse Hessian-vector product solver:
 * {@link org.influence4j.calculators.influence.InverseHessianInfluence} and its pyDVL-named
 * variants {@link org.influence4j.calculators.influence.DirectInfluence} and
 * {@link org.influence4j.calculators.influence.CgInfluence}, and
 * {@link org.influence4j.calculators.influence.EkfacInfluence} (eigenvalue-corrected
 * Kronecker-factored Gauss-Newton curvature of softmax models: Dense and Conv2d blocks, Embedding with
 * a diagonal input factor, exact diagonal blocks for the parameters of other layers such as LayerNorm
 * and BatchNorm; with per-layer results). Shapes and the sign convention are
 * those of {@link org.influence4j.api.influence.InfluenceFunctionModel}: influences are
 * {@code ⟨H⁻¹∇θℓ(z_test), ∇θℓ(z)⟩} with H the Hessian of the <em>mean</em> training loss plus λI
 * (for EK-FAC its approximation), positive when removing z would raise the test loss; in
 * perturbation mode {@code ⟨H⁻¹∇θℓ(z_test), ∇x∇θℓ(z)⟩}, shape {@code [m, n, inputDim]}.
 */
package org.influence4j.calculators.influence;
