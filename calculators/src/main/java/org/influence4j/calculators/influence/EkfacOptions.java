package org.influence4j.calculators.influence;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.progress.ProgressListener;

/**
 * Settings of {@link EkfacInfluence}. The method's own settings ({@code influence.inversion.ekfac.*})
 * are declared once in {@link #SETTINGS}; λ and the batch size are the influence model's.
 *
 * @param hessianRegularization λ ≥ 0 added to every eigenvalue of the Kronecker-factored curvature
 *                              (pyDVL's {@code hessian_regularization})
 * @param updateDiagonal        refit the eigenvalues in the Kronecker eigenbasis from per-sample
 *                              gradients (EK-FAC, pyDVL's {@code update_diagonal}); false keeps the
 *                              K-FAC eigenvalues {@code λ_G ⊗ λ_A}; costs one more data pass
 * @param curvature             how the output-gradient factor G is estimated
 * @param batchSize             samples per chunk when passing over the data, positive
 * @param progress              receives the fit's tasks ("EK-FAC factors", "EK-FAC eigenvalue refit"),
 *                              one step per chunk; {@link ProgressListener#NONE} by default
 */
public record EkfacOptions(double hessianRegularization, boolean updateDiagonal, EkfacCurvature curvature,
                           int batchSize, ProgressListener progress) {

    /** {@code update_diagonal}: refit the eigenvalues (pyDVL's {@code update_diagonal}). */
    public static final Setting<Boolean> UPDATE_DIAGONAL = Setting.ofBoolean("update_diagonal", false,
            "EK-FAC eigenvalue refit in the Kronecker eigenbasis (one more data pass)");
    /** {@code curvature}: how G is estimated, {@code fisher} or {@code pydvl} ({@link EkfacCurvature}). */
    public static final Setting<EkfacCurvature> CURVATURE = Setting.of("curvature", EkfacCurvature.class,
            EkfacCurvature.FISHER, EkfacOptions::parseCurvature, c -> c.name().toLowerCase(Locale.ROOT),
            "G estimate: fisher (exact expectation over the predictive distribution) or pydvl");

    /** Every setting of EK-FAC, declared once: the configuration keys {@code influence.inversion.ekfac.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(UPDATE_DIAGONAL, CURVATURE);

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
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
    }

    /** Options without progress reporting. */
    public EkfacOptions(double hessianRegularization, boolean updateDiagonal, EkfacCurvature curvature,
                        int batchSize) {
        this(hessianRegularization, updateDiagonal, curvature, batchSize, ProgressListener.NONE);
    }

    /**
     * @return λ, the diagonal refit on or off, {@link #CURVATURE}'s default (the exact Fisher
     *     expectation) and batches of {@value InfluenceOptions#DEFAULT_BATCH_SIZE}
     */
    public static EkfacOptions of(double hessianRegularization, boolean updateDiagonal) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, CURVATURE.defaultValue(),
                InfluenceOptions.DEFAULT_BATCH_SIZE);
    }

    /**
     * @param settings              the method's short-keyed settings ({@link #SETTINGS}); missing ones
     *                              take their defaults
     * @param hessianRegularization λ ≥ 0
     * @param batchSize             samples per chunk, positive
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static EkfacOptions from(SolverSettings settings, double hessianRegularization, int batchSize) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("ekfac", SETTINGS);
        return new EkfacOptions(hessianRegularization, s.get(UPDATE_DIAGONAL), s.get(CURVATURE), batchSize);
    }

    private static EkfacCurvature parseCurvature(String text) {
        try {
            return EkfacCurvature.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("solver setting 'curvature': '" + text
                    + "' is not one of " + Arrays.stream(EkfacCurvature.values())
                    .map(c -> c.name().toLowerCase(Locale.ROOT)).toList(), e);
        }
    }

    /** @return a copy with another λ */
    public EkfacOptions withHessianRegularization(double lambda) {
        return new EkfacOptions(lambda, updateDiagonal, curvature, batchSize, progress);
    }

    /** @return a copy with another curvature estimate */
    public EkfacOptions withCurvature(EkfacCurvature value) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, value, batchSize, progress);
    }

    /** @return a copy with another batch size */
    public EkfacOptions withBatchSize(int value) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, curvature, value, progress);
    }

    /** @return a copy reporting the fit's progress to {@code listener} */
    public EkfacOptions withProgress(ProgressListener listener) {
        return new EkfacOptions(hessianRegularization, updateDiagonal, curvature, batchSize, listener);
    }
}
