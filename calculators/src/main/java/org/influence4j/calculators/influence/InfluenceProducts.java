package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * Products of influence factors with training-sample derivatives and the argument checks, shared by
 * the influence models ({@link InverseHessianInfluence}, {@link EkfacInfluence}).
 */
final class InfluenceProducts {

    private InfluenceProducts() {
    }

    /** @throws IllegalArgumentException naming {@code mode} if it is null */
    static void requireMode(InfluenceMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("mode: must not be null; use InfluenceMode.UP or PERTURBATION");
        }
    }

    /** @throws IllegalArgumentException naming {@code test} or {@code train} (may be null) if it does not fit {@code spec} */
    static void requireBatches(ModelSpec spec, Batch test, Batch train) {
        spec.validate(test, "test");
        if (train != null) {
            spec.validate(train, "train");
        }
    }

    /**
     * @param advice what the message ends with, e.g. {@code "use InfluenceMode.UP"}
     * @throws UnsupportedOperationException naming {@code mode} if the backend lacks
     *     {@link BackendCapability#MIXED_DERIVATIVES}
     */
    static void requireMixedDerivatives(TwiceDifferentiable model, String advice) {
        if (!model.backend().capabilities().contains(BackendCapability.MIXED_DERIVATIVES)) {
            throw new UnsupportedOperationException("mode: PERTURBATION needs the mixed derivatives ∇x∇θℓ, which"
                    + " backend " + model.backend().name() + " does not provide (capability MIXED_DERIVATIVES); "
                    + advice);
        }
    }

    /**
     * {@link org.influence4j.api.influence.InfluenceFunctionModel#influencesFromFactors}, which needs
     * only the model: {@code factors · ∇θℓ(train)ᵀ} (UP) or {@link #perturbation} (PERTURBATION).
     *
     * @param chunk       training samples per mixed-derivative call
     * @param mixedAdvice the end of the message when the backend lacks mixed derivatives
     * @return {@code [m, n]} or {@code [m, n, inputDim]}, owned by {@code scope}
     */
    static Tensor fromFactors(TwiceDifferentiable model, Tensor factors, Batch train, InfluenceMode mode, int chunk,
                              String mixedAdvice, TensorScope scope) {
        requireMode(mode);
        requireFactors(factors, model.numParameters());
        model.spec().validate(train, "train");
        if (mode == InfluenceMode.PERTURBATION) {
            requireMixedDerivatives(model, mixedAdvice);
            return perturbation(model, factors, train, chunk, scope);
        }
        try (TensorScope work = scope.newChild()) {
            return DenseLinalg.timesTransposed(factors, model.perSampleGradients(train, work)).moveTo(scope);
        }
    }

    /**
     * @throws IllegalArgumentException naming {@code factors} if it is null or not {@code [m, p]}
     */
    static void requireFactors(Tensor factors, int p) {
        if (factors == null) {
            throw new IllegalArgumentException("factors: must not be null");
        }
        long[] shape = factors.shape();
        if (shape.length != 2 || shape[1] != p) {
            throw new IllegalArgumentException("factors: shape " + Arrays.toString(shape) + " is not [m, " + p
                    + "]; pass the output of influenceFactors");
        }
    }

    /**
     * @throws IllegalArgumentException naming {@code vectors} if it is null or not {@code [k, p]}
     */
    static void requireVectors(Tensor vectors, int p) {
        if (vectors == null || vectors.rank() != 2 || vectors.shape()[1] != p) {
            throw new IllegalArgumentException("vectors: must be a matrix [k, " + p + "] (one parameter-space vector"
                    + " per row), got " + (vectors == null ? "null" : Arrays.toString(vectors.shape())));
        }
    }

    /**
     * Perturbation influences {@code out[t, i, :] = ∇_{x_i} ⟨factors[t,:], ∇θℓ(x_i, y_i)⟩}, from
     * {@link TwiceDifferentiable#mixedGradientProducts} on chunks of at most {@code chunk} training
     * samples; the chunks are joined on the backend.
     *
     * @return {@code [m, n, inputDim]}, owned by {@code scope}
     */
    static Tensor perturbation(TwiceDifferentiable model, Tensor factors, Batch train, int chunk, TensorScope scope) {
        int n = train.size();
        int m = Math.toIntExact(factors.shape()[0]);
        int inputDim = model.spec().inputDim();
        if (n <= chunk) {
            return model.mixedGradientProducts(train, factors, scope);
        }
        try (TensorScope work = scope.newChild()) {
            // Chunks [m, nc, d] are joined along n: as [m, nc*d] matrices their transposes stack
            // along dimension 0, which is the one concatenation the tensor contract offers. Pairwise
            // (balanced) joining copies every value O(log chunks) times.
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                int to = Math.min(n, from + chunk);
                try (TensorScope step = work.newChild()) {
                    Tensor mixed = model.mixedGradientProducts(train.slice(from, to), factors, step);
                    parts.add(mixed.reshape(m, (long) (to - from) * inputDim).transpose().moveTo(work));
                }
            }
            Tensor stacked = DenseLinalg.stackRows(parts);
            Tensor result = stacked.transpose().reshape(m, n, inputDim);
            return result.moveTo(scope);
        }
    }
}
