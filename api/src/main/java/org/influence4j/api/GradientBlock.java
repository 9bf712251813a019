package org.influence4j.api;

/**
 * A block of consecutive parameters' per-sample gradients in the cheapest exact form
 * ({@link TwiceDifferentiable#perSampleGradientBlocks}), one of three {@link Kind}s:
 * <ul>
 *   <li>{@link Kind#COLUMNS}: {@code gradients} {@code [n, size]}, columns
 *       {@code [offset, offset + size)} of the per-sample gradients;</li>
 *   <li>{@link Kind#DENSE_FACTORS}, a Dense layer on vectors: {@code inputs} a {@code [n, in]} and
 *       {@code outputGradients} δ {@code [n, out]} (of the per-sample loss). The block is the weight
 *       {@code [out, in]} (row-major, gradient {@code δ_i a_iᵀ}) followed, when {@code bias}, by the
 *       bias {@code [out]} (gradient δ_i); size {@code out·in (+ out)}. Inner products never form
 *       the gradients: {@code ⟨g_i, g_j⟩ = (δ_i·δ_j)(a_i·a_j + [bias])}.</li>
 *   <li>{@link Kind#EMBEDDING_ROWS}, an Embedding table {@code [V, d]} (row-major, no bias):
 *       {@code ids} the {@code n·T} token ids of the batch (sample-major) and {@code outputGradients}
 *       δ {@code [n, T, d]}, the per-sample loss's gradients of the looked-up rows. Sample i's
 *       gradient has row v equal to {@code Σ_{t: id_{i,t} = v} δ_{i,t}} and zeros elsewhere: at most T
 *       of the V rows, so {@code ⟨g_i, g_j⟩ = Σ_{t,s: id_{i,t} = id_{j,s}} δ_{i,t}·δ_{j,s}} costs
 *       {@code T²·d} at most instead of {@code V·d}, and the block holds {@code T·d} values a sample
 *       instead of {@code V·d}. Size {@code V·d}.</li>
 * </ul>
 *
 * @param offset          the block's first parameter in θ
 * @param size            its number of parameters
 * @param gradients       {@code [n, size]} of a COLUMNS block, else null
 * @param inputs          {@code [n, in]} of a DENSE_FACTORS block, else null
 * @param outputGradients δ: {@code [n, out]} of a DENSE_FACTORS block, {@code [n, T, d]} of an
 *                        EMBEDDING_ROWS block, else null
 * @param bias            whether a DENSE_FACTORS block ends with the layer's bias
 * @param ids             the {@code n·T} token ids of an EMBEDDING_ROWS block (copied), else null
 */
public record GradientBlock(int offset, int size, Tensor gradients, Tensor inputs, Tensor outputGradients,
                            boolean bias, int[] ids) {

    /** The form a block is held in. */
    public enum Kind {
        /** Gradient columns {@code [n, size]}. */
        COLUMNS,
        /** A Dense layer's inputs and output gradients, whose outer product the gradient is. */
        DENSE_FACTORS,
        /** An Embedding table's looked-up ids and their rows' gradients. */
        EMBEDDING_ROWS
    }

    /** @throws IllegalArgumentException if the parts given fit none of the kinds */
    public GradientBlock {
        boolean columns = gradients != null && inputs == null && outputGradients == null && !bias && ids == null;
        boolean dense = gradients == null && inputs != null && outputGradients != null && ids == null;
        boolean rows = gradients == null && inputs == null && outputGradients != null && !bias && ids != null
                && outputGradients.rank() == 3 && ids.length == outputGradients.shape()[0] * outputGradients.shape()[1];
        if (!(columns || dense || rows)) {
            throw new IllegalArgumentException("GradientBlock: give the gradients; or the inputs and output gradients"
                    + " of a Dense layer; or the ids and output gradients [n, T, d] (n·T ids) of an Embedding");
        }
        ids = ids == null ? null : ids.clone();
    }

    /** @return a block of gradient columns {@code [n, size]} */
    public static GradientBlock materialized(int offset, Tensor gradients) {
        return new GradientBlock(offset, Math.toIntExact(gradients.shape()[1]), gradients, null, null, false, null);
    }

    /** @return the factors of a Dense layer's weight (and bias) */
    public static GradientBlock factored(int offset, Tensor inputs, Tensor outputGradients, boolean bias) {
        long in = inputs.shape()[1];
        long out = outputGradients.shape()[1];
        return new GradientBlock(offset, Math.toIntExact(out * in + (bias ? out : 0)), null, inputs, outputGradients,
                bias, null);
    }

    /**
     * @param vocabulary      V, the table's rows
     * @param ids             the batch's {@code n·T} token ids, sample-major
     * @param outputGradients δ {@code [n, T, d]}
     * @return the looked-up rows of an Embedding table {@code [V, d]}
     */
    public static GradientBlock embeddingRows(int offset, int vocabulary, int[] ids, Tensor outputGradients) {
        return new GradientBlock(offset, Math.toIntExact((long) vocabulary * outputGradients.shape()[2]), null, null,
                outputGradients, false, ids);
    }

    /** @return the form the block is held in */
    public Kind kind() {
        return gradients != null ? Kind.COLUMNS : ids != null ? Kind.EMBEDDING_ROWS : Kind.DENSE_FACTORS;
    }

    /** @return the token ids of an EMBEDDING_ROWS block (a copy), else null */
    @Override
    public int[] ids() {
        return ids == null ? null : ids.clone();
    }
}
