package org.influence4j.calculators.attribution;

import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.influence.InfluenceFunctionModel;

/**
 * Group influence over a fitted influence model (deel-influenciae's group influence; Basu, You and
 * Feizi 2020 for the second-order term), with the definitions of
 * {@link FirstOrderInfluenceCalculator}: the group vector {@code v(U) = H⁻¹ Σ_{z∈U} g(z)}, plus
 * {@code (1/n) H⁻¹ H_U v(U)} in second order (H_U the summed Hessian of the group), and the value
 * {@code ⟨v(U), Σ_{t∈T} g(t)⟩}. Does not own the influence model.
 */
public final class GroupInfluence {

    private final TwiceDifferentiable model;
    private final InfluenceFunctionModel influence;
    private final long hessianSamples;
    private final boolean secondOrder;

    /**
     * @param model          the model {@code influence} was fitted for
     * @param influence      a fitted influence model
     * @param hessianSamples n, the number of samples H is averaged over
     * @param secondOrder    whether to add the second-order term
     * @throws IllegalArgumentException naming a null, unfitted or out-of-range argument
     */
    public GroupInfluence(TwiceDifferentiable model, InfluenceFunctionModel influence, long hessianSamples,
                          boolean secondOrder) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (influence == null || !influence.isFitted()) {
            throw new IllegalArgumentException("influence: must be a fitted influence model");
        }
        if (hessianSamples <= 0) {
            throw new IllegalArgumentException("hessianSamples: must be > 0, got " + hessianSamples);
        }
        this.model = model;
        this.influence = influence;
        this.hessianSamples = hessianSamples;
        this.secondOrder = secondOrder;
    }

    /**
     * The group influence vector v(U).
     *
     * @return {@code [p]} owned by {@code scope}
     * @throws IllegalArgumentException naming {@code group} if it is empty or does not fit
     */
    public Tensor vector(Batch group, TensorScope scope) {
        Attributions.requireNonEmpty(group, "group");
        model.spec().validate(group, "group");
        try (TensorScope work = scope.newChild()) {
            Tensor sum = model.gradient(group, work).scale(group.size());
            Tensor v = solve(sum, work);
            if (secondOrder) {
                // H_U v = |U| · (mean-loss Hessian of the group) v
                Tensor hv = model.hvp(group, v, work).scale(group.size());
                Tensor correction = solve(hv, work);
                v = v.axpy(1.0 / hessianSamples, correction);
            }
            return v.moveTo(scope);
        }
    }

    /**
     * The group influence value ⟨v(U), Σ_{t∈T} g(t)⟩.
     *
     * @param evaluate the evaluation group T, or null for U itself
     * @throws IllegalArgumentException naming {@code group} or {@code evaluate} if empty or unfit
     */
    public double value(Batch group, Batch evaluate) {
        Batch target = evaluate == null ? group : evaluate;
        if (evaluate != null) {
            Attributions.requireNonEmpty(evaluate, "evaluate");
            model.spec().validate(evaluate, "evaluate");
        }
        try (TensorScope scope = model.backend().newScope()) {
            Tensor v = vector(group, scope);
            Tensor sum = model.gradient(target, scope).scale(target.size());
            return v.dot(sum);
        }
    }

    /** @return {@code H⁻¹ v} for one vector {@code [p]} */
    private Tensor solve(Tensor v, TensorScope scope) {
        int p = model.numParameters();
        return influence.inverseHessianProducts(v.reshape(1, p), scope).reshape(p);
    }
}
