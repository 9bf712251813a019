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
import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.model.GraphNode;
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
     * @param chunk       training samples per per-sample-gradient or mixed-derivative call
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
        return gradientProducts(model, factors, train, chunk, scope);
    }

    /**
     * UP influences from factors: {@code factors · ∇θℓ(train)ᵀ}, the per-sample gradients taken in
     * chunks of at most {@code chunk} samples ({@link #joinColumns}), fewer for wide models
     * ({@link GradientChunks#bounded}). A layer graph's gradients stay in their blocks
     * ({@link BlockProducts}: Dense layers as factors, Embedding tables as the rows looked up) where
     * that saves: with an Embedding, or gradients too wide for a chunk. Otherwise one product with
     * the gradients formed is faster: the Fashion-MNIST CNN's EK-FAC influences (500 × 2,000) took
     * 0.48-0.54 s so, 0.66-0.69 s through its blocks.
     *
     * @return {@code [m, n]}, owned by {@code scope}
     */
    static Tensor gradientProducts(TwiceDifferentiable model, Tensor factors, Batch train, int chunk,
                                   TensorScope scope) {
        int bounded = GradientChunks.bounded(model, chunk);
        boolean blocks = model.spec().isGraph() && (bounded < Math.min(chunk, train.size())
                || model.spec().graph().nodes().stream().anyMatch(node -> node instanceof GraphNode.Embedding));
        if (!blocks) {
            return joinColumns(train, bounded, scope,
                    (part, step) -> DenseLinalg.timesTransposed(factors, model.perSampleGradients(part, step)));
        }
        try (TensorScope pieces = scope.newChild()) {
            BlockProducts products = new BlockProducts(factors, pieces);
            return joinColumns(train, bounded, scope,
                    (part, step) -> products.scores(model.perSampleGradientBlocks(part, step), step));
        }
    }

    /**
     * A block of a product with training samples: one column (or {@code width} columns) per sample.
     */
    @FunctionalInterface
    interface ChunkBlock {
        /**
         * @return {@code [m, part.size() · width]}, in {@code step} or an operand's scope (the caller
         *     closes it once joined)
         */
        Tensor of(Batch part, TensorScope step);
    }

    /**
     * The blocks of {@code train}'s chunks of at most {@code chunk} samples, joined along their columns
     * on the backend: per-sample gradients and the other per-chunk work arrays never exceed
     * {@code chunk} rows, which keeps them in cache and bounds memory. With one chunk it is the block
     * itself ({@code train} is passed as is). Pairwise (balanced) joining copies every value
     * O(log chunks) times.
     *
     * @return {@code [m, n · width]}, owned by {@code scope}
     */
    static Tensor joinColumns(Batch train, int chunk, TensorScope scope, ChunkBlock block) {
        int n = train.size();
        try (TensorScope work = scope.newChild()) {
            if (n <= chunk) {
                return block.of(train, work).moveTo(scope);
            }
            // the transposes of the blocks stack along dimension 0, the one concatenation the tensor
            // contract offers
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                try (TensorScope step = work.newChild();
                     Tensor part = block.of(train.slice(from, Math.min(n, from + chunk)), step)) {
                    parts.add(part.transpose().moveTo(work));
                }
            }
            return DenseLinalg.stackRows(parts).transpose().moveTo(scope);
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
        int m = Math.toIntExact(factors.shape()[0]);
        int inputDim = model.spec().inputDim();
        try (TensorScope work = scope.newChild()) {
            Tensor joined = joinColumns(train, chunk, work, (part, step) ->
                    model.mixedGradientProducts(part, factors, step).reshape(m, (long) part.size() * inputDim));
            return joined.reshape(m, train.size(), inputDim).moveTo(scope);
        }
    }
}
