package org.influence4j.api.influence;

/** Which influence is computed (pyDVL's {@code InfluenceMode}). */
public enum InfluenceMode {
    /**
     * Up-weighting a training point: {@code ⟨H⁻¹∇θℓ(z_test), ∇θℓ(z)⟩}, one scalar per pair.
     */
    UP,
    /**
     * Perturbing a training point's features: {@code ⟨H⁻¹∇θℓ(z_test), ∇x∇θℓ(z)⟩}, one value per
     * pair and input feature.
     */
    PERTURBATION
}
