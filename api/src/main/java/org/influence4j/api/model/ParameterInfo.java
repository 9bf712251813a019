package org.influence4j.api.model;

/**
 * Where one named parameter tensor lies in the flat parameter vector.
 *
 * @param name   PyTorch name, e.g. {@code 0.weight}, {@code 0.bias}, {@code 2.weight}
 * @param shape  the tensor's shape ({@code [out, in]} for weights, {@code [out]} for biases)
 * @param offset index of its first element in the flat vector
 * @param layerIndex index of the owning layer in {@link ModelSpec#layers()}
 */
public record ParameterInfo(String name, long[] shape, int offset, int layerIndex) {

    /**
     * @return number of elements
     * @throws ArithmeticException if it does not fit in an {@code int} (never truncated)
     */
    public int size() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return Math.toIntExact(n);
    }
}
