package org.influence4j.calculators.influence;

import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.DataSource;
import org.influence4j.calculators.inversion.DirectSolver;

/**
 * Influence functions with the exact inverse Hessian (pyDVL's {@code DirectInfluence}): {@link #fit}
 * computes the full mean-loss Hessian {@code H + λI} and factorises it ({@link DirectSolver}). For
 * models with few parameters (p up to a few thousand); the reference answer for every other method.
 *
 * <p>A named preset of {@link InverseHessianInfluence}: shapes, sign convention and errors are the same.
 */
public final class DirectInfluence extends InverseHessianInfluence {

    /**
     * @param model                 the trained model
     * @param hessianRegularization λ ≥ 0 (pyDVL's {@code hessian_regularization})
     */
    public DirectInfluence(TwiceDifferentiable model, double hessianRegularization) {
        this(model, InfluenceOptions.of(hessianRegularization));
    }

    /**
     * @param model   the trained model
     * @param options λ and the chunk size of the data passes
     */
    public DirectInfluence(TwiceDifferentiable model, InfluenceOptions options) {
        super(model, new DirectSolver(), options);
    }

    @Override
    public DirectInfluence fit(DataSource trainingData) {
        super.fit(trainingData);
        return this;
    }
}
