package org.influence4j.api;

/**
 * The per-sample gradient of one weight layer written as a sum of outer products over the
 * layer's positions ({@link TwiceDifferentiable#layerGradientFactors}): the form that
 * Kronecker-factored curvature (K-FAC, KFC for convolutions, EK-FAC) is built from.
 *
 * <p><b>Rows.</b> {@code inputs}, {@code ids} and {@code outputGradients} have {@code n·T} rows
 * ordered (sample i, position t), T = {@code positions}: 1 for a Dense layer on vectors, the
 * leading positions for a Dense layer on the last axis of {@code [..., in]}, the output positions
 * {@code H_out·W_out} of a Conv2d, the tokens of an Embedding. δ are the gradients of the
 * <em>per-sample</em> loss ℓ_i (not divided by n) with respect to the layer's output rows.
 *
 * <p><b>Layouts and gradients.</b>
 * <ul>
 *   <li>{@link Kind#DENSE}, {@link Kind#CONV2D}: the weight {@code W [out, in]} row-major at
 *       {@code parameterOffset} (a Conv2d weight {@code [out, C, kh, kw]} is this with
 *       {@code in = C·kh·kw}, and its input rows are the im2col patches in (c, kh, kw) order), then
 *       the bias {@code [out]} if {@code bias}. Sample i's gradients are
 *       {@code ∇W = Σ_t δ_{i,t} a_{i,t}ᵀ} and {@code ∇b = Σ_t δ_{i,t}}.</li>
 *   <li>{@link Kind#EMBEDDING}: the weight {@code [in, out]} = {@code [vocabulary, dim]} row-major,
 *       no bias; {@code inputs} is null and {@code ids} holds the token ids:
 *       {@code ∇W[v, :] = Σ_{t: id_{i,t} = v} δ_{i,t}}.</li>
 * </ul>
 *
 * @param kind            what the layer is
 * @param layerIndex      the layer's index: in {@code ModelSpec.layers()} for a format-1 model, in
 *                        {@code ModelGraph.nodes()} for a layer graph
 * @param parameterOffset offset of the weight in the flat parameter vector
 * @param inFeatures      in (the vocabulary for an Embedding)
 * @param outFeatures     out (the embedding dimension for an Embedding)
 * @param bias            whether a bias {@code [out]} follows the weight
 * @param positions       T, at least 1
 * @param inputs          {@code [n·T, in]}; null for an Embedding
 * @param ids             {@code n·T} token ids for an Embedding; null otherwise
 * @param outputGradients δ, {@code [n·T, out]}
 */
public record LayerGradientFactors(Kind kind, int layerIndex, int parameterOffset, int inFeatures, int outFeatures,
                                   boolean bias, int positions, Tensor inputs, int[] ids, Tensor outputGradients) {

    /** Feature values of a batch repeated over classes for one {@link #classGroup} call (2 MiB as float32). */
    private static final long CLASS_GROUP_VALUES = 1 << 19;

    /** What a factored layer is. */
    public enum Kind {
        /** {@code z = W a + b} on the last axis. */
        DENSE,
        /** A 2-D convolution, as a matrix product over im2col patches. */
        CONV2D,
        /** A lookup of rows of W by token id. */
        EMBEDDING
    }

    /** @throws IllegalArgumentException if a part is missing or does not fit {@code kind} */
    public LayerGradientFactors {
        if (kind == null || outputGradients == null || positions < 1) {
            throw new IllegalArgumentException("LayerGradientFactors: kind and outputGradients are required and"
                    + " positions must be >= 1");
        }
        if ((kind == Kind.EMBEDDING) != (inputs == null) || (kind == Kind.EMBEDDING) != (ids != null)
                || (kind == Kind.EMBEDDING && bias)) {
            throw new IllegalArgumentException("LayerGradientFactors: an EMBEDDING has ids, no inputs and no bias;"
                    + " DENSE and CONV2D have inputs and no ids");
        }
        ids = ids == null ? null : ids.clone();
    }

    /** @return the factors of a Dense layer on vectors (T = 1, with bias) */
    public static LayerGradientFactors of(DenseLayerFactors dense) {
        return new LayerGradientFactors(Kind.DENSE, dense.layerIndex(), dense.parameterOffset(),
                (int) dense.inputs().shape()[1], (int) dense.outputGradients().shape()[1], true, 1, dense.inputs(),
                null, dense.outputGradients());
    }

    /**
     * @return these factors with the first {@code rows} rows of {@code inputs} (a new tensor of the
     *     same scope) and of {@code ids}; the same output gradients
     */
    public LayerGradientFactors withFirstInputRows(long rows) {
        return new LayerGradientFactors(kind, layerIndex, parameterOffset, inFeatures, outFeatures, bias, positions,
                inputs == null ? null : inputs.rows(0, rows),
                ids == null ? null : java.util.Arrays.copyOf(ids, Math.toIntExact(rows)), outputGradients);
    }

    /** @return these factors with {@code outputGradients} in place of δ (the same inputs and ids) */
    public LayerGradientFactors withOutputGradients(Tensor outputGradients) {
        return new LayerGradientFactors(kind, layerIndex, parameterOffset, inFeatures, outFeatures, bias, positions,
                inputs, ids, outputGradients);
    }

    /**
     * How many classes one call of {@link TwiceDifferentiable#fisherLayerGradientFactors} should take
     * for a batch: as many as keep the batch repeated once per class within 2¹⁹ feature values (2 MiB
     * as float32), at least one. Fewer, larger calls give the same rows and sums.
     */
    public static int classGroup(org.influence4j.api.data.Batch batch, int classes) {
        return (int) Math.max(1, Math.min(classes, CLASS_GROUP_VALUES / ((long) batch.size() * batch.numFeatures())));
    }

    /**
     * Checks the class range of {@link TwiceDifferentiable#fisherLayerGradientFactors}.
     *
     * @throws IllegalArgumentException if the loss of {@code spec} is not softmax cross-entropy or not
     *     {@code 0 ≤ fromClass < toClass ≤ C}
     */
    public static void requireClasses(org.influence4j.api.model.ModelSpec spec, int fromClass, int toClass) {
        if (spec.loss() != org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY) {
            throw new IllegalArgumentException("loss: Fisher layer factors need softmax cross-entropy, not "
                    + spec.loss() + "; use layerGradientFactors");
        }
        if (fromClass < 0 || fromClass >= toClass || toClass > spec.outputDim()) {
            throw new IllegalArgumentException("fromClass, toClass: need 0 <= fromClass < toClass <= "
                    + spec.outputDim() + " (the classes), got [" + fromClass + ", " + toClass + ")");
        }
    }

    /** @return the token ids (a copy), or null */
    @Override
    public int[] ids() {
        return ids == null ? null : ids.clone();
    }

    /** @return the number of parameters of the layer: {@code out·in}, plus out with a bias */
    public long numParameters() {
        return (long) outFeatures * inFeatures + (bias ? outFeatures : 0);
    }
}
