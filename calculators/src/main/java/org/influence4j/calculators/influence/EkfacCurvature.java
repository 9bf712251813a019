package org.influence4j.calculators.influence;

/**
 * How {@link EkfacInfluence} estimates the output-gradient factor {@code G = E[δ δᵀ]} of each Dense,
 * Conv2d or Embedding layer, where δ is the gradient of the per-sample loss with respect to the
 * layer's output (at each of its positions, over which G is also averaged). Labels
 * are never taken from the data: both estimates use the model's own predictive distribution
 * {@code p_i = softmax(f_θ(x_i))}, so that G belongs to the Fisher / Gauss-Newton matrix of softmax
 * cross-entropy rather than to the empirical Fisher.
 */
public enum EkfacCurvature {

    /**
     * The exact expectation over the predictive distribution:
     * {@code G = (1/n) Σ_i Σ_c p_ic δ_ic δ_icᵀ}, with δ_ic the output gradient for label c (one
     * backward pass per class). With {@code A = (1/n) Σ ã ãᵀ}, {@code A ⊗ G} is then the K-FAC
     * approximation of the layer's diagonal block of the Gauss-Newton matrix
     * {@code (1/n) Σ_i J_iᵀ (diag(p_i) − p_i p_iᵀ) J_i}, and the diagonal refit gives the exact
     * diagonal of that block in the Kronecker eigenbasis. The default.
     */
    FISHER,

    /**
     * pyDVL's estimate ({@code empirical_cross_entropy_loss_fn}): one vector per sample,
     * {@code d_i = Σ_c √p_ic δ_ic} (the gradient of {@code Σ_c √p_c log p_c} with the weights √p
     * held constant), and {@code G = (1/n) Σ_i d_i d_iᵀ}, from one backward pass per batch as in pyDVL
     * ({@link org.influence4j.api.TwiceDifferentiable#pooledFisherLayerGradientFactors}). Matches
     * pyDVL's numbers; it contains the cross terms {@code √(p_c p_c') δ_c δ_c'ᵀ} of different classes,
     * so it is not the Fisher.
     */
    PYDVL
}
