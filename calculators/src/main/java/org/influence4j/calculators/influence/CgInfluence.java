package org.influence4j.calculators.influence;

import java.util.Optional;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;

/**
 * Influence functions with conjugate gradient (pyDVL's {@code CgInfluence}): every factor
 * computation runs block CG on exact Hessian-vector products
 * ({@link org.influence4j.calculators.inversion.ConjugateGradientSolver}), one data pass per
 * iteration for all right-hand sides together. Needs {@code H + λI} positive definite; otherwise
 * the solve throws {@link org.influence4j.api.inversion.InversionException}.
 *
 * <p>A named preset of {@link InverseHessianInfluence}: every call is delegated to it, so shapes,
 * sign convention and errors are the same.
 */
public final class CgInfluence implements InfluenceFunctionModel {

    private final InverseHessianInfluence delegate;

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
     * @param cgOptions             tolerances and iteration limit
     */
    public CgInfluence(TwiceDifferentiable model, double hessianRegularization, CgOptions cgOptions) {
        this(model, InfluenceOptions.of(hessianRegularization), cgOptions);
    }

    /**
     * @param model     the trained model
     * @param options   λ and the chunk size of the data passes
     * @param cgOptions tolerances and iteration limit
     */
    public CgInfluence(TwiceDifferentiable model, InfluenceOptions options, CgOptions cgOptions) {
        this.delegate = new InverseHessianInfluence(model, new ConjugateGradientSolver(cgOptions), options);
    }

    /** @return the underlying model that does the work */
    public InverseHessianInfluence delegate() {
        return delegate;
    }

    /** @return the diagnostics of the most recent solve, if any */
    public Optional<SolverInfo> lastSolverInfo() {
        return delegate.lastSolverInfo();
    }

    @Override
    public CgInfluence fit(DataSource trainingData) {
        delegate.fit(trainingData);
        return this;
    }

    @Override
    public boolean isFitted() {
        return delegate.isFitted();
    }

    @Override
    public Tensor influenceFactors(Batch batch, TensorScope scope) {
        return delegate.influenceFactors(batch, scope);
    }

    @Override
    public Tensor influences(Batch test, Batch train, InfluenceMode mode, TensorScope scope) {
        return delegate.influences(test, train, mode, scope);
    }

    @Override
    public Tensor influencesFromFactors(Tensor factors, Batch train, InfluenceMode mode, TensorScope scope) {
        return delegate.influencesFromFactors(factors, train, mode, scope);
    }

    @Override
    public boolean isThreadSafe() {
        return delegate.isThreadSafe();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return "CgInfluence[" + delegate.options() + "]";
    }
}
