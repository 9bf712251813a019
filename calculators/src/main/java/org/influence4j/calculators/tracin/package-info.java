/**
 * The TracIn checkpoint family with Captum's semantics: {@link org.influence4j.calculators.tracin.TracInCP}
 * (per-sample gradients at every checkpoint, optionally restricted to named layers),
 * {@link org.influence4j.calculators.tracin.TracInCPFast} (last Dense layer, factorised outer
 * products) and {@link org.influence4j.calculators.tracin.TracInCPFastRandProj} (Kronecker-structured
 * projections of those products — data-dependent by default, Captum's Gaussian ones as an option —
 * and exact nearest-neighbour search).
 *
 * <p>Score of training point z on test point t: {@code Σ_c η_c ⟨∇θℓ(t; θ_c), ∇θℓ(z; θ_c)⟩} over the
 * checkpoints θ_c with learning rates η_c (per-sample losses, not divided by n). Positive = proponent,
 * as every {@link org.influence4j.calculators.attribution.TrainingDataAttribution} defines it;
 * self-influence {@code Σ_c η_c ‖∇θℓ(z; θ_c)‖²} ≥ 0.
 */
package org.influence4j.calculators.tracin;
