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
import org.influence4j.calculators.inversion.DirectSolver;

/**
 * Influence functions with the exact inverse Hessian (pyDVL's {@code DirectInfluence}): {@link #fit}
 * computes the full mean-loss Hessian {@code H + λI} and factorises it
 * ({@link org.influence4j.calculators.inversion.DirectSolver}). For models with few parameters
 * (p up to a few thousand); the reference answer for every other method.
 *
 * <p>A named preset of {@link InverseHessianInfluence}: every call is delegated to it, so shapes,
 * sign convention and errors are the same.
 */
public final class DirectInfluence implements InfluenceFunctionModel {

    private final InverseHessianInfluence delegate;

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
        this.delegate = new InverseHessianInfluence(model, new DirectSolver(), options);
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
    public DirectInfluence fit(DataSource trainingData) {
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
        return "DirectInfluence[" + delegate.options() + "]";
    }
}
