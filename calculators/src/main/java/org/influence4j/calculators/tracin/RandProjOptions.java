package org.influence4j.calculators.tracin;

/**
 * Settings of {@link TracInCPFastRandProj}.
 *
 * @param projectionDim target dimension d of each checkpoint's projected last-layer gradient
 *                      (Captum's {@code projection_dim}), or 0 for no projection (exact
 *                      TracInCPFast scores); the output factor δ is projected to
 *                      {@code d_δ = min(out, ⌊√d⌋)} and the input factor to {@code min(in, ⌊d/d_δ⌋)}
 *                      dimensions, so a sample's vector has at most d entries per checkpoint
 * @param seed          seed of the Gaussian projection matrices
 * @param batchSize     samples per factor pass and per search chunk, positive
 * @param includeBias   whether the last layer's bias gradient is included (as in {@link TracInCPFast})
 */
public record RandProjOptions(int projectionDim, long seed, int batchSize, boolean includeBias) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public RandProjOptions {
        if (projectionDim < 0) {
            throw new IllegalArgumentException("projectionDim: must be >= 0 (0 = no projection), got " + projectionDim);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
    }

    /** @return projection to {@code projectionDim}, seed 0, batches of 256, weight only */
    public static RandProjOptions of(int projectionDim) {
        return new RandProjOptions(projectionDim, 0, 256, false);
    }

    /** @return a copy with another seed */
    public RandProjOptions withSeed(long value) {
        return new RandProjOptions(projectionDim, value, batchSize, includeBias);
    }
}
