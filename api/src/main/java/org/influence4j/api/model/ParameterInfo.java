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

    /**
     * @param layout a model's parameter layout
     * @param names  some of its parameters' names
     * @return the named parameters, in layout order
     * @throws IllegalArgumentException naming {@code parameters} for a name the layout does not have
     */
    public static java.util.List<ParameterInfo> named(java.util.List<ParameterInfo> layout,
                                                      java.util.Set<String> names) {
        java.util.List<ParameterInfo> out = new java.util.ArrayList<>(names.size());
        for (ParameterInfo info : layout) {
            if (names.contains(info.name())) {
                out.add(info);
            }
        }
        if (out.size() != names.size()) {
            java.util.Set<String> unknown = new java.util.TreeSet<>(names);
            out.forEach(info -> unknown.remove(info.name()));
            throw new IllegalArgumentException("parameters: unknown " + unknown + "; the model has "
                    + layout.stream().map(ParameterInfo::name).toList());
        }
        return out;
    }
}
