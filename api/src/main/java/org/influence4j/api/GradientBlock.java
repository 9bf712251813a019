package org.influence4j.api;

/**
 * A block of consecutive parameters' per-sample gradients in the cheapest exact form
 * ({@link TwiceDifferentiable#perSampleGradientBlocks}): either the gradient columns themselves, or,
 * for a Dense layer on vectors, the two factors whose outer product the gradient is, so that inner
 * products of gradients never form them: {@code ⟨g_i, g_j⟩ = (δ_i·δ_j)(a_i·a_j + [bias])}.
 *
 * <p>A <b>materialized</b> block has {@code gradients} {@code [n, size]}: columns
 * {@code [offset, offset + size)} of the per-sample gradients. A <b>factored</b> block has
 * {@code inputs} a {@code [n, in]} and {@code outputGradients} δ {@code [n, out]} (of the per-sample
 * loss): the block is the weight {@code [out, in]} (row-major, gradient {@code δ_i a_iᵀ}) followed,
 * when {@code bias}, by the bias {@code [out]} (gradient δ_i); size {@code out·in (+ out)}.
 *
 * @param offset          the block's first parameter in θ
 * @param size            its number of parameters
 * @param gradients       {@code [n, size]}, or null for a factored block
 * @param inputs          {@code [n, in]} of a factored block, else null
 * @param outputGradients {@code [n, out]} of a factored block, else null
 * @param bias            whether a factored block ends with the layer's bias
 */
public record GradientBlock(int offset, int size, Tensor gradients, Tensor inputs, Tensor outputGradients,
                            boolean bias) {

    /** @throws IllegalArgumentException if the block is neither materialized nor factored */
    public GradientBlock {
        if ((gradients == null) == (inputs == null || outputGradients == null)
                || (gradients != null && (inputs != null || outputGradients != null || bias))) {
            throw new IllegalArgumentException("GradientBlock: give the gradients, or the inputs and output gradients"
                    + " of a factored Dense layer");
        }
    }

    /** @return a block of gradient columns {@code [n, size]} */
    public static GradientBlock materialized(int offset, Tensor gradients) {
        return new GradientBlock(offset, Math.toIntExact(gradients.shape()[1]), gradients, null, null, false);
    }

    /** @return the factors of a Dense layer's weight (and bias) */
    public static GradientBlock factored(int offset, Tensor inputs, Tensor outputGradients, boolean bias) {
        long in = inputs.shape()[1];
        long out = outputGradients.shape()[1];
        return new GradientBlock(offset, Math.toIntExact(out * in + (bias ? out : 0)), null, inputs, outputGradients,
                bias);
    }

    /** @return whether the block is held as factors */
    public boolean isFactored() {
        return gradients == null;
    }
}
