package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.backend.djl.DjlTensorScope;

/**
 * A {@link org.influence4j.api.TensorScope} over a DJL {@link NDManager} of the TensorFlow engine
 * (eager tensors; host data is copied into TensorFlow-owned memory): tensors created here,
 * and results of operations on them, are attached to the manager and freed when the scope closes.
 * {@link #newChild()} returns a scope over a sub-manager (closed with its parent).
 *
 * <p>TensorFlow specifics: host data and scalars are created with {@link TfDTypes}; a
 * matrix-vector product runs as a matrix times a one-column matrix, reshaped back to a vector.
 *
 * <p>Not thread-safe: use one scope per thread.
 */
public final class TfTensorScope extends DjlTensorScope<TfTensor, TfTensorScope> {

    private final TfBackend backend;

    TfTensorScope(TfBackend backend, NDManager manager) {
        super(manager, TfBackendProvider.NAME);
        this.backend = backend;
    }

    @Override
    public TfBackend backend() {
        return backend;
    }

    @Override
    protected TfTensor newTensor(NDArray array) {
        return new TfTensor(array, this);
    }

    @Override
    protected TfTensorScope newScope(NDManager manager) {
        return new TfTensorScope(backend, manager);
    }

    @Override
    protected NDArray createArray(NDManager m, double[] data, Shape shape, DataType type) {
        return TfDTypes.create(m, data, shape, type);
    }

    @Override
    protected NDArray gatherRows(NDArray matrix, int[] index) {
        return TfIndexing.INSTANCE.gather(manager(), matrix, index);
    }

    @Override
    protected NDArray scalarArray(NDManager m, double value, DataType type) {
        return TfDTypes.scalar(m, value, type);
    }

    /** @return {@code matrix} times {@code vector} reshaped to a column, reshaped back to a vector */
    @Override
    protected NDArray matVec(NDArray matrix, NDArray vector) {
        try (NDArray column = vector.reshape(vector.getShape().get(0), 1);
             NDArray product = matrix.matMul(column)) {
            return product.reshape(matrix.getShape().get(0));
        }
    }

    @Override
    protected TfTensor requireTensor(Tensor t, String argument) {
        return TfTensor.require(t, argument);
    }

    @Override
    protected TfTensorScope requireScope(TensorScope scope, String argument) {
        return backend.requireScope(scope, argument);
    }
}
