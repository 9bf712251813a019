package org.influence4j.calculators.influence;

import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.DataSource;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;

/**
 * Influence functions with conjugate gradient (pyDVL's {@code CgInfluence}): every factor
 * computation runs CG on exact Hessian-vector products ({@link ConjugateGradientSolver}), one data
 * pass per iteration for all right-hand sides together. Needs {@code H + λI} positive definite;
 * otherwise the solve throws {@link org.influence4j.api.inversion.InversionException}.
 *
 * <p>A named preset of {@link InverseHessianInfluence}: shapes, sign convention and errors are the same.
 */
public final class CgInfluence extends InverseHessianInfluence {

    /**
     * CG with pyDVL's default tolerances ({@link CgOptions#defaults()}).
     *
     * @param model                 the trained model
     * @param hessianRegularization λ ≥ 0 (pyDVL's {@code hessian_regularization})
     */
    public CgInfluence(TwiceDifferentiable model, double hessianRegularization) {
        this(model, hessianRegularization, CgOptions.defaults());
    }

    /**
     * @param model                 the trained model
     * @param hessianRegularization λ ≥ 0
     * @param cgOptions             tolerances, iteration limit, block mode and preconditioner
     */
    public CgInfluence(TwiceDifferentiable model, double hessianRegularization, CgOptions cgOptions) {
        this(model, InfluenceOptions.of(hessianRegularization), cgOptions);
    }

    /**
     * @param model     the trained model
     * @param options   λ and the chunk size of the data passes
     * @param cgOptions tolerances, iteration limit, block mode and preconditioner
     */
    public CgInfluence(TwiceDifferentiable model, InfluenceOptions options, CgOptions cgOptions) {
        super(model, new ConjugateGradientSolver(cgOptions), options);
    }

    @Override
    public CgInfluence fit(DataSource trainingData) {
        super.fit(trainingData);
        return this;
    }
}
