package org.influence4j.calculators.tracin;

/**
 * Settings of {@link TracInCPFastRandProj}.
 *
 * @param projectionDim target dimension d of each checkpoint's projected last-layer gradient
 *                      (Captum's {@code projection_dim}), or 0 for no projection (exact
 *                      TracInCPFast scores); a layer whose gradient has at most d entries
 *                      ({@code out·in ≤ d}) is not projected either (as in Captum)
 * @param projection    how the factorised gradient {@code δ aᵀ} is projected
 * @param seed          seed of the Gaussian projection matrices ({@link Projection#KRONECKER})
 * @param batchSize     samples per factor pass and per search chunk, positive
 * @param includeBias   whether the last layer's bias gradient is included (as in {@link TracInCPFast})
 */
public record RandProjOptions(int projectionDim, Projection projection, long seed, int batchSize, boolean includeBias) {

    /**
     * Projections {@code P = P_δ ⊗ P_a} of a rank-one gradient {@code g = vec(δ aᵀ)} (δ: the layer's
     * output gradient, {@code out} entries; a: its input, {@code in} entries): they need only the
     * factors, {@code Pg = vec((P_δ δ)(P_a a)ᵀ)}, and store at most d·(out + in) numbers per checkpoint.
     */
    public enum Projection {
        /**
         * Captum's TracInCPFastRandProj: δ and a are projected separately by seeded Gaussian
         * matrices (entries N(0, 1/k)) to {@code d_δ = min(out, ⌊√d⌋)} and
         * {@code d_a = min(in, ⌊√d⌋)} dimensions and the vector is their outer product, an unbiased
         * estimate {@code E⟨Pg, Pg'⟩ = ⟨g, g'⟩}. Its d_δ·d_a coordinates share √d random vectors per
         * factor, so the estimate is a product of two √d-dimensional estimates and noisy at small
         * d (digits MLP, d = 64: Spearman of the influence scores with TracInCPFast ≈ 0.5). Kept for
         * comparison with Captum.
         */
        KRONECKER,
        /**
         * Data-dependent Kronecker projection (as LoGra's PCA initialisation, Choe et al. 2024):
         * at each checkpoint, a is projected onto the leading k_a eigenvectors of
         * {@code A = Σ a aᵀ} and δ onto the leading k_δ eigenvectors of {@code G = Σ δ δᵀ} over the
         * indexed training set, with {@code k_δ·k_a ≤ d} chosen to keep the largest product of
         * captured eigenvalue shares. Deterministic (the seed is unused) and biased towards zero
         * (an orthogonal projection), but it keeps the directions the training gradients actually
         * use (digits MLP, d = 64: Spearman ≈ 0.99); costs one more pass over the training set per
         * checkpoint and an eigendecomposition of an {@code in × in} and an {@code out × out}
         * matrix. The default.
         */
        FACTOR_PCA
    }

    /** @throws IllegalArgumentException naming the argument out of range */
    public RandProjOptions {
        if (projectionDim < 0) {
            throw new IllegalArgumentException("projectionDim: must be >= 0 (0 = no projection), got " + projectionDim);
        }
        if (projection == null) {
            throw new IllegalArgumentException("projection: must not be null; use Projection.FACTOR_PCA");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
    }

    /** @return {@link Projection#FACTOR_PCA} to {@code projectionDim}, seed 0, batches of 256, weight only */
    public static RandProjOptions of(int projectionDim) {
        return new RandProjOptions(projectionDim, Projection.FACTOR_PCA, 0, 256, false);
    }

    /** @return a copy with another seed */
    public RandProjOptions withSeed(long value) {
        return new RandProjOptions(projectionDim, projection, value, batchSize, includeBias);
    }

    /** @return a copy with another projection */
    public RandProjOptions withProjection(Projection value) {
        return new RandProjOptions(projectionDim, value, seed, batchSize, includeBias);
    }

    /** @return a copy with another batch size */
    public RandProjOptions withBatchSize(int value) {
        return new RandProjOptions(projectionDim, projection, seed, value, includeBias);
    }

    /** @return a copy that includes (or not) the bias gradient */
    public RandProjOptions withBias(boolean value) {
        return new RandProjOptions(projectionDim, projection, seed, batchSize, value);
    }
}
