package org.influence4j.api.inversion;

import java.util.Locale;

/**
 * Which curvature matrix of the mean training loss the inverse-HVP solvers invert (plus λI).
 *
 * <ul>
 *   <li>{@link #HESSIAN}: the exact Hessian {@code ∇²θ L} (pyDVL's and Captum's influence
 *       functions). Indefinite when the model is not at a minimum: solvers then report negative
 *       curvature.</li>
 *   <li>{@link #GAUSS_NEWTON}: {@code G = (1/n) Σ_i J_iᵀ H_ℓ,i J_i} with J the Jacobian of the outputs
 *       and {@code H_ℓ} the Hessian of the loss in the outputs — positive semi-definite for the convex
 *       losses here, the curvature K-FAC/EK-FAC approximate (kronfluence's default). Exact products,
 *       no approximation; needs {@link org.influence4j.api.BackendCapability#GAUSS_NEWTON}.</li>
 *   <li>{@link #EMPIRICAL_FISHER}: {@code F = (1/n) Σ_i g_i g_iᵀ} with {@code g_i = ∇θ ℓ_i} the
 *       per-sample loss gradients — the operator pyDVL 0.10 documents for
 *       {@code SecondOrderMode.GAUSS_NEWTON} (its {@code GaussNewtonOperator}), the counterpart of a
 *       pyDVL configuration with that mode. Positive semi-definite, of rank at most n; computed from
 *       per-sample gradients on every backend and model format. pyDVL 0.10's own numbers differ:
 *       its {@code PointAveraging} weights each batch's product by the product's leading dimension
 *       (p for a vector, the number of right-hand sides for a block) instead of the batch's sample
 *       count, and leaves the first batch unweighted (one batch of 300 gives {@code F v / p}).</li>
 * </ul>
 */
public enum Curvature {
    /** The exact Hessian of the mean loss. */
    HESSIAN,
    /** The (generalised) Gauss-Newton matrix of the mean loss. */
    GAUSS_NEWTON,
    /** The empirical Fisher (mean outer product of the per-sample gradients): pyDVL's "Gauss-Newton". */
    EMPIRICAL_FISHER;

    /** The accepted values, for messages: {@value}. */
    public static final String VALUES = "hessian, gauss-newton or empirical-fisher";

    /** @return the configuration and CLI name ({@code hessian}, {@code gauss-newton}, {@code empirical-fisher}) */
    public String key() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** @throws IllegalArgumentException naming the accepted values (the keys; also gn, ggn and ef) */
    public static Curvature parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Curvature c : values()) {
            if (c.key().equals(v) || (c == GAUSS_NEWTON && (v.equals("gn") || v.equals("ggn")))
                    || (c == EMPIRICAL_FISHER && v.equals("ef"))) {
                return c;
            }
        }
        throw new IllegalArgumentException("curvature: unknown value '" + value + "'; use " + VALUES);
    }
}
