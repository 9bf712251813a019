package org.influence4j.api;

/**
 * The per-sample gradient factors of one Dense layer ({@link TwiceDifferentiable#denseLayerFactors}).
 *
 * @param layerIndex      index of the Dense layer in {@code ModelSpec.layers()}
 * @param parameterOffset offset of the layer's weight in the flat parameter vector (its bias follows
 *                        the weight)
 * @param inputs          per-sample layer inputs a, {@code [n, in]}
 * @param outputGradients per-sample ∂ℓ_i/∂z, {@code [n, out]}
 */
public record DenseLayerFactors(int layerIndex, int parameterOffset, Tensor inputs, Tensor outputGradients) {

    public DenseLayerFactors {
        if (inputs == null || outputGradients == null) {
            throw new IllegalArgumentException("DenseLayerFactors: inputs and outputGradients must not be null");
        }
    }
}
