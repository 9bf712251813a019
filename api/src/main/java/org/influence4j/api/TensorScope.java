package org.influence4j.api;

/**
 * A lifetime for backend tensors, used with try-with-resources (DJL: an {@code NDManager}
 * sub-manager). Tensors created through a scope, and results of operations on them, are freed
 * when the scope closes, unless they were {@link Tensor#moveTo(TensorScope) moved} to another scope.
 *
 * <p>Scopes are not thread-safe: use one scope per thread.
 */
public interface TensorScope extends AutoCloseable {

    /** @return the backend whose memory this scope manages */
    Backend backend();

    /**
     * Copies host data into a new tensor.
     *
     * @param data  row-major elements; its length must equal the product of {@code shape}
     * @param dtype element type of the tensor
     * @param shape the shape (a scalar is {@code new long[0]})
     * @throws IllegalArgumentException if {@code data.length} does not match {@code shape}
     */
    Tensor fromArray(double[] data, DType dtype, long... shape);

    /** @return a new tensor filled with zeros */
    Tensor zeros(DType dtype, long... shape);

    /** @return an identity matrix {@code [n,n]} */
    Tensor eye(DType dtype, long n);

    /** @return a child scope; closing this scope also closes the child */
    TensorScope newChild();

    /** Frees every tensor still owned by this scope and its children. Idempotent. */
    @Override
    void close();
}
