package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.backend.djl.DjlTensorScope;

/**
 * A {@link org.influence4j.api.TensorScope} over a DJL PyTorch {@link NDManager}: tensors created
 * here, and results of operations on them, are attached to the manager and freed when the scope
 * closes. {@link #newChild()} returns a scope over a sub-manager (closed with its parent).
 *
 * <p>PyTorch specifics (see {@link PtArrays}): host data is copied into libtorch-owned memory, and
 * scalar factors are made with {@code torch::full}, never passed to DJL operations as Java numbers.
 *
 * <p>Not thread-safe: use one scope per thread.
 */
public final class PtTensorScope extends DjlTensorScope<PtTensor, PtTensorScope> {

    private final PtBackend backend;

    PtTensorScope(PtBackend backend, NDManager manager) {
        super(manager, PtBackendProvider.NAME);
        this.backend = backend;
    }

    @Override
    public PtBackend backend() {
        return backend;
    }

    @Override
    protected PtTensor newTensor(NDArray array) {
        return new PtTensor(array, this);
    }

    @Override
    protected PtTensorScope newScope(NDManager manager) {
        return new PtTensorScope(backend, manager);
    }

    /** @return a libtorch-owned copy of {@code data} ({@link PtArrays#owned}) */
    @Override
    protected NDArray createArray(NDManager m, double[] data, Shape shape, DataType type) {
        return PtArrays.owned(m, data, shape, type);
    }

    /** @return a libtorch-owned scalar ({@link PtArrays#scalar}) */
    @Override
    protected NDArray gatherRows(NDArray matrix, int[] index) {
        return PtBackend.INDEXING.gather(manager(), matrix, index);
    }

    @Override
    protected NDArray scalarArray(NDManager m, double value, DataType type) {
        return PtArrays.scalar(m, value, type);
    }

    @Override
    protected PtTensor requireTensor(Tensor t, String argument) {
        return PtTensor.require(t, argument);
    }

    @Override
    protected PtTensorScope requireScope(TensorScope scope, String argument) {
        return backend.requireScope(scope, argument);
    }
}
