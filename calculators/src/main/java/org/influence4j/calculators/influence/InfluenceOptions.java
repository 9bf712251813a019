package org.influence4j.calculators.influence;

import org.influence4j.api.inversion.Curvature;
import org.influence4j.calculators.inversion.DataHessianOperator;

/**
 * Settings shared by the influence function models.
 *
 * @param hessianRegularization λ ≥ 0 added to the mean-loss Hessian (pyDVL's
 *                              {@code hessian_regularization}); use λ &gt; 0 when the model is not
 *                              exactly at a minimum or the Hessian is singular
 * @param batchSize             samples per chunk when passing over the training data, positive
 * @param curvature             the matrix inverted: the Hessian (default), the Gauss-Newton matrix or the empirical Fisher
 * @param keptStateBytes        the most native memory in which the data passes over the curvature
 *                              keep the recorded passes of their first batches (≥ 0; 0 keeps none;
 *                              the default {@link DataHessianOperator#DEFAULT_KEPT_STATE_BYTES}):
 *                              the same numbers, each later pass sweeping the records only
 */
public record InfluenceOptions(double hessianRegularization, int batchSize, Curvature curvature,
                               long keptStateBytes) {

    /** Options with the exact Hessian as curvature. */
    public InfluenceOptions(double hessianRegularization, int batchSize) {
        this(hessianRegularization, batchSize, Curvature.HESSIAN);
    }

    /** Options with the default memory for kept passes. */
    public InfluenceOptions(double hessianRegularization, int batchSize, Curvature curvature) {
        this(hessianRegularization, batchSize, curvature, DataHessianOperator.DEFAULT_KEPT_STATE_BYTES);
    }

    /** Default chunk size of the data passes. */
    public static final int DEFAULT_BATCH_SIZE = 512;

    /** @throws IllegalArgumentException naming the argument out of range */
    public InfluenceOptions {
        if (!(hessianRegularization >= 0) || Double.isInfinite(hessianRegularization)) {
            throw new IllegalArgumentException("hessianRegularization: must be >= 0 and finite, got "
                    + hessianRegularization + "; use 0 for none, or a small positive value (e.g. 0.01)");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
        if (curvature == null) {
            throw new IllegalArgumentException("curvature: must not be null; use " + Curvature.VALUES);
        }
        DataHessianOperator.requireKeptStateBytes(keptStateBytes);
    }

    /** @return λ = 0 and batches of {@value #DEFAULT_BATCH_SIZE} */
    public static InfluenceOptions defaults() {
        return new InfluenceOptions(0.0, DEFAULT_BATCH_SIZE);
    }

    /** @return the default batch size with regularization {@code lambda} */
    public static InfluenceOptions of(double lambda) {
        return new InfluenceOptions(lambda, DEFAULT_BATCH_SIZE);
    }

    /** @return a copy with another λ */
    public InfluenceOptions withHessianRegularization(double lambda) {
        return new InfluenceOptions(lambda, batchSize, curvature, keptStateBytes);
    }

    /** @return a copy with another batch size */
    public InfluenceOptions withBatchSize(int value) {
        return new InfluenceOptions(hessianRegularization, value, curvature, keptStateBytes);
    }

    /** @return a copy with another curvature */
    public InfluenceOptions withCurvature(Curvature value) {
        return new InfluenceOptions(hessianRegularization, batchSize, value, keptStateBytes);
    }

    /** @return a copy with another bound on the kept passes, in bytes */
    public InfluenceOptions withKeptStateBytes(long value) {
        return new InfluenceOptions(hessianRegularization, batchSize, curvature, value);
    }
}
