package org.influence4j.calculators.attribution;

/**
 * RelatIF normalisation of influence vectors (Barshan et al. 2020), applied per training point z.
 */
public enum RelatIf {
    /** Plain influence {@code ⟨H⁻¹∇θℓ(z), ∇θℓ(z_test)⟩}. */
    NONE,
    /**
     * θ-relative influence: influence / ‖H⁻¹∇θℓ(z)‖ (influenciae's {@code normalize=True}: the
     * influence vector is scaled to unit norm).
     */
    THETA_RELATIVE,
    /** ℓ-relative influence: influence / √(self-influence), self-influence = ⟨∇θℓ(z), H⁻¹∇θℓ(z)⟩. */
    LOSS_RELATIVE
}
