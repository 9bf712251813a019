package org.influence4j.calculators.tracin;

import java.util.Arrays;
import java.util.List;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * TracInCPFast (Captum): TracInCP restricted to the weight of the model's last Dense layer, computed
 * from the layer's per-sample inputs a and output gradients δ without forming per-sample gradients.
 * The weight gradient of sample i is {@code δ_i a_iᵀ}, so
 * <pre>  ⟨∇_W ℓ(t), ∇_W ℓ(z)⟩ = (δ_t · δ_z)(a_t · a_z),   ‖∇_W ℓ(z)‖² = ‖δ_z‖² ‖a_z‖²</pre>
 * and a score block of m×n costs two small GEMMs per checkpoint. With {@code includeBias} the
 * bias gradient δ_i is included: {@code (δ_t · δ_z)(a_t · a_z + 1)} (Captum's TracInCPFast uses the
 * weight only; that is the default). Scores equal {@link TracInCP} restricted to {@code "L.weight"}
 * (and {@code "L.bias"}) of the last Dense layer L.
 *
 * <p>Needs a backend with {@link BackendCapability#DENSE_LAYER_FACTORS}. Not thread-safe.
 */
public final class TracInCPFast extends CheckpointMethod {

    private final boolean includeBias;

    /**
     * The method with {@link TracInOptions#defaults()}'s other settings: no progress, automatic threads.
     *
     * @param model       the model; its backend must provide per-layer factors
     * @param checkpoints the loaded checkpoints with learning rates
     * @param batchSize   samples per factor pass, positive
     * @param includeBias whether the last layer's bias gradient is included
     * @throws IllegalArgumentException if batchSize ≤ 0 or the model has no Dense layer
     * @throws UnsupportedOperationException if the backend lacks {@link BackendCapability#DENSE_LAYER_FACTORS}
     */
    public TracInCPFast(TwiceDifferentiable model, TracInCheckpoints checkpoints, int batchSize, boolean includeBias) {
        this(model, checkpoints, includeBias, TracInOptions.defaults().withBatchSize(batchSize));
    }

    /**
     * @param model       the model; its backend must provide per-layer factors
     * @param checkpoints the loaded checkpoints with learning rates
     * @param includeBias whether the last layer's bias gradient is included
     * @param options     batch size, progress and threads; no layers (the method takes the last Dense layer's)
     * @throws IllegalArgumentException naming {@code options} when it names layers, or if the model has no
     *     Dense layer
     * @throws UnsupportedOperationException if the backend lacks {@link BackendCapability#DENSE_LAYER_FACTORS}
     */
    public TracInCPFast(TwiceDifferentiable model, TracInCheckpoints checkpoints, boolean includeBias,
                        TracInOptions options) {
        super(model, checkpoints, options);
        if (!options.layers().isEmpty()) {
            throw new IllegalArgumentException("options: TracInCPFast takes the last Dense layer's gradients, not the "
                    + "layers " + options.layers() + "; use TracInCP for a restriction to layers");
        }
        if (model.spec().denseLayers().isEmpty()) {
            throw new IllegalArgumentException("model: has no Dense layer for TracInCPFast");
        }
        if (!model.backend().capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS)) {
            throw new UnsupportedOperationException("backend " + model.backend().name()
                    + " does not provide per-layer gradient factors (DENSE_LAYER_FACTORS); use TracInCP with the "
                    + "last layer's parameter names instead");
        }
        this.includeBias = includeBias;
    }

    /** @return whether the bias gradient is included */
    public boolean includesBias() {
        return includeBias;
    }

    /**
     * The last Dense layer's factors {@code [a, δ]} at the current parameters.
     *
     * @return a: {@code [n, in]}, δ: {@code [n, out]}, owned by {@code scope}
     */
    static List<Tensor> lastLayerFactors(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            List<DenseLayerFactors> all = model.denseLayerFactors(batch, work);
            DenseLayerFactors last = all.get(all.size() - 1);
            return List.of(last.inputs().moveTo(scope), last.outputGradients().moveTo(scope));
        }
    }

    /**
     * @return a: {@code [n, in]}, or {@code [n, in + 1]} with a column of ones appended where the bias is
     *     included (so that {@code a_t · a_z} is {@code a_t · a_z + 1}); δ: {@code [n, out]}
     */
    @Override
    List<Tensor> represent(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        List<Tensor> factors = lastLayerFactors(model, batch, scope);
        if (!includeBias) {
            return factors;
        }
        Tensor a = factors.get(0);
        long n = a.shape()[0];
        double[] ones = new double[Math.toIntExact(n)];
        Arrays.fill(ones, 1.0);
        try (a; Tensor columns = a.transpose(); Tensor one = scope.fromArray(ones, a.dtype(), 1, n);
             Tensor joined = columns.concat(one)) {
            return List.of(joined.transpose(), factors.get(1));
        }
    }

    @Override
    Tensor pair(List<Tensor> test, List<Tensor> train, TensorScope scope) {
        try (Tensor aa = DenseLinalg.timesTransposed(test.get(0), train.get(0));
             Tensor dd = DenseLinalg.timesTransposed(test.get(1), train.get(1))) {
            return dd.mul(aa).moveTo(scope);
        }
    }

    @Override
    Tensor self(List<Tensor> rep, TensorScope scope) {
        try (Tensor a2 = rep.get(0).rowDots(rep.get(0)); Tensor d2 = rep.get(1).rowDots(rep.get(1))) {
            return d2.mul(a2).moveTo(scope);
        }
    }

    @Override
    public String toString() {
        return "TracInCPFast[" + checkpoints.size() + " checkpoints" + (includeBias ? ", with bias" : "") + "]";
    }
}
