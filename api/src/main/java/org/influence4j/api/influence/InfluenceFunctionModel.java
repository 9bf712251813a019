package org.influence4j.api.influence;

import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import java.util.Map;

/**
 * Influence of training points on test points, with pyDVL's shapes and sign convention.
 *
 * <p><b>Definition (UP mode).</b> With the mean training loss {@code L(θ) = (1/n) Σ ℓ_j} at its
 * optimum θ* and the regularized Hessian {@code H = ∇²L(θ*) + λI},
 * <pre>  influence(z_test, z) = ⟨H⁻¹ ∇θℓ(z_test), ∇θℓ(z)⟩.</pre>
 * <b>Sign.</b> Up-weighting z by ε changes the test loss by {@code −ε · influence} (to first
 * order). Removing z from the training set (ε = −1/n) changes it by {@code +influence / n}:
 * a <em>positive</em> influence means z helps the test prediction (removing it raises the test
 * loss, a proponent); a negative one means z hurts it (an opponent).
 *
 * <p><b>Shapes.</b> Test batches have m samples, training batches n, p parameters: factors are
 * {@code [m, p]}, influences {@code [m, n]}.
 *
 * <p>Implementations must be {@link #fit fitted} before use and hold backend memory: close them.
 */
public interface InfluenceFunctionModel extends AutoCloseable {

    /**
     * Prepares H⁻¹ on the training data (Hessian, factorisation, ...).
     *
     * @return this model, fitted
     * @throws IllegalArgumentException if the data do not fit the model
     */
    InfluenceFunctionModel fit(DataSource trainingData);

    /** @return whether {@link #fit} has completed */
    boolean isFitted();

    /**
     * Influence factors {@code H⁻¹∇θℓ(x_i, y_i)} for each sample.
     *
     * @return {@code [m, p]}, owned by {@code scope}
     * @throws IllegalStateException if the model is not fitted
     */
    Tensor influenceFactors(Batch batch, TensorScope scope);

    /**
     * The (approximate) inverse curvature applied to arbitrary vectors: {@code H⁻¹ v} for every row
     * v of {@code vectors} (the solve behind {@link #influenceFactors}, which is this applied to the
     * per-sample gradients; group influence and second-order corrections use it on other vectors).
     *
     * @param vectors {@code [k, p]}
     * @return {@code [k, p]}, owned by {@code scope}
     * @throws IllegalStateException if the model is not fitted
     * @throws IllegalArgumentException naming {@code vectors} if it is not {@code [k, p]}
     */
    Tensor inverseHessianProducts(Tensor vectors, TensorScope scope);

    /**
     * Influences of the training samples {@code train} on the test samples {@code test}.
     *
     * @param train training samples; {@code null} means {@code test} itself (pyDVL's default)
     * @return {@code [m, n]} in UP mode, owned by {@code scope}
     * @throws UnsupportedOperationException if {@code mode} is not supported by this model
     */
    Tensor influences(Batch test, Batch train, InfluenceMode mode, TensorScope scope);

    /**
     * Influences from precomputed factors.
     *
     * @param factors {@code [m, p]} from {@link #influenceFactors}
     * @return {@code [m, n]} in UP mode, owned by {@code scope}
     */
    Tensor influencesFromFactors(Tensor factors, Batch train, InfluenceMode mode, TensorScope scope);

    /**
     * The settings that determine this model's numbers besides the model and the data — method,
     * regularization λ, curvature, solver options — for provenance records
     * ({@link org.influence4j.api.provenance.Provenance}): equal configurations on equal inputs give
     * equal numbers. Only deterministic values (no listeners, no object identities). The default
     * names the class only; implementations should add their settings.
     *
     * @return field name → value, e.g. {@code {"method": "cg", "lambda": "0.1"}}
     */
    default Map<String, String> configuration() {
        return Map.of("model", getClass().getName());
    }

    /**
     * What the computations so far reported — for an iterative solver the number of solves, the
     * largest iteration count and relative residual and whether every solve converged — as JSON
     * values for a provenance record's diagnostics. The default reports nothing.
     *
     * @return name → JSON value (Number, String, Boolean, List or Map); empty when nothing was recorded
     */
    default Map<String, Object> diagnostics() {
        return Map.of();
    }

    /** @return whether several threads may use this model at the same time */
    boolean isThreadSafe();

    /** Frees what {@link #fit} allocated. Idempotent. */
    @Override
    void close();
}
