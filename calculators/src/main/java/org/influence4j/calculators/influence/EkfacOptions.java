package org.influence4j.calculators.influence;

/**
 * Settings of {@link EkfacInfluence}.
 *
 * @param hessianRegularization λ ≥ 0 added to every eigenvalue of the Kronecker-factored curvature
 *                              (pyDVL's {@code hessian_regularization})
 * @param updateDiagonal        refit the eigenvalues in the Kronecker eigenbasis from per-sample
 *                              gradients (EK-FAC, pyDVL's {@code update_diagonal}); false keeps the
 *                              K-FAC eigenvalues {@code λ_G ⊗ λ_A}; costs one more data pass
 * @param curvature             how the output-gradient factor G is estimated
 * @param batchSize             samples per chunk when passing over the data, positive
 */
public record EkfacOptions(double hessianRegularization, boolean updateDiagonal, EkfacCurvature curvature,
                           int batchSize) {

    /** @throws IllegalArgumentException naming the argument out of range */
    public EkfacOptions {
        if (!(hessianRegularization >= 0) || Double.isInfinite(hessianRegularization)) {
            throw new IllegalArgumentException("hessianRegularization: must be >= 0 and finite, got "
                    + hessianRegularization + "; use 0 for none, or a small positive value (e.g. 0.01)");
        }
        if (curvature == null) {
            throw new IllegalArgumentException("curvature: must not be null; use EkfacCurvature.FISHER");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
    }

    /**
     * @return λ, the diagonal refit on or off, the exact Fisher expectation and batches of
     *     {@value InfluenceOptions#DEFAULT_BATCH_SIZE}
     */
    public static EkfacOptions of(double hessianRegularization, boolean updateDiagonal) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, EkfacCurvature.FISHER,
                InfluenceOptions.DEFAULT_BATCH_SIZE);
    }

    /** @return a copy with another λ */
    public EkfacOptions withHessianRegularization(double lambda) {
        return new EkfacOptions(lambda, updateDiagonal, curvature, batchSize);
    }

    /** @return a copy with another curvature estimate */
    public EkfacOptions withCurvature(EkfacCurvature value) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, value, batchSize);
    }

    /** @return a copy with another batch size */
    public EkfacOptions withBatchSize(int value) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, curvature, value);
    }
}
