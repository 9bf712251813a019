package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;

/**
 * A {@link TensorScope} over a DJL {@link NDManager}: tensors created here, and results of
 * operations on them, are attached to the manager and freed when the scope closes.
 * {@link #newChild()} returns a scope over a sub-manager (closed with its parent).
 *
 * <p>Subclasses (one per DJL engine) supply the engine-specific hooks: how host data
 * ({@link #createArray}) and scalar factors ({@link #scalarArray}) become arrays, the matrix-vector
 * product ({@link #matVec}), and which tensors and scopes belong to their backend
 * ({@link #requireTensor}, {@link #requireScope}).
 *
 * <p>Not thread-safe: use one scope per thread.
 *
 * @param <T> the backend's tensor type
 * @param <S> the backend's scope type (this subclass)
 */
public abstract class DjlTensorScope<T extends DjlTensor<T, S>, S extends DjlTensorScope<T, S>>
        implements TensorScope {

    private final NDManager manager;
    private final String engine;
    private volatile boolean closed;

    /**
     * @param manager the DJL manager behind the scope (closing the scope closes it)
     * @param engine the backend's name (e.g. {@code djl-pytorch}), used in exception messages
     */
    protected DjlTensorScope(NDManager manager, String engine) {
        this.manager = manager;
        this.engine = engine;
    }

    /** @return the DJL manager behind this scope (closing it closes the scope) */
    public final NDManager manager() {
        checkOpen();
        return manager;
    }

    /** @return whether the scope (or its manager, e.g. through a parent) was closed */
    public final boolean isClosed() {
        return closed || !manager.isOpen();
    }

    /**
     * Wraps an array as a tensor of this scope, attaching it to this scope's manager if needed.
     *
     * @throws IllegalStateException if the array is not float32/float64
     */
    public final T wrap(NDArray array) {
        checkOpen();
        DjlDTypes.fromDjl(array.getDataType(), engine);
        if (array.getManager() != manager) {
            array.attach(manager);
        }
        return newTensor(array);
    }

    @Override
    public final T fromArray(double[] data, DType dtype, long... shape) {
        checkOpen();
        TensorChecks.checkFromArray(data, shape);
        return newTensor(createArray(manager, data, new Shape(shape), DjlDTypes.toDjl(dtype)));
    }

    @Override
    public final T zeros(DType dtype, long... shape) {
        checkOpen();
        TensorChecks.checkShape("zeros", shape);
        return newTensor(manager.zeros(new Shape(shape), DjlDTypes.toDjl(dtype)));
    }

    @Override
    public final T eye(DType dtype, long n) {
        checkOpen();
        TensorChecks.checkEye(n);
        return newTensor(manager.eye((int) n, (int) n, 0, DjlDTypes.toDjl(dtype)));
    }

    @Override
    public final S newChild() {
        checkOpen();
        return newScope(manager.newSubManager());
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + manager.getName() + (isClosed() ? ", closed" : "") + "]";
    }

    /** @return the backend's name given to the constructor (e.g. {@code djl-pytorch}) */
    protected final String engine() {
        return engine;
    }

    /** @return a tensor of this scope owning {@code array} (already attached to this scope's manager) */
    protected abstract T newTensor(NDArray array);

    /** @return a scope of this backend over {@code manager} (a sub-manager of this scope's) */
    protected abstract S newScope(NDManager manager);

    /**
     * @return a new array attached to {@code m} holding {@code data} converted to {@code type}
     *     (float32/float64), of shape {@code shape} (whose element count is {@code data.length})
     */
    protected abstract NDArray createArray(NDManager m, double[] data, Shape shape, DataType type);

    /** @return a new 0-dimensional array attached to {@code m} holding {@code value} in {@code type} */
    protected abstract NDArray scalarArray(NDManager m, double value, DataType type);

    /**
     * The product of a matrix {@code [a,b]} and a vector {@code [b]} as a vector {@code [a]} (both of
     * the same dtype). The default is {@link NDArray#matMul}; engines whose matmul needs two matrices
     * override it.
     */
    protected NDArray matVec(NDArray matrix, NDArray vector) {
        return matrix.matMul(vector);
    }

    /**
     * @return the rows {@code index} of {@code matrix} (checked), a new array attached to this scope's
     *     manager ({@link DjlKernels.EngineOps#gather} of the engine)
     */
    protected abstract NDArray gatherRows(NDArray matrix, int[] index);

    /**
     * @return {@code t} as an open tensor of this backend
     * @throws IllegalArgumentException if it is null or belongs to another backend
     * @throws IllegalStateException if it was closed
     */
    protected abstract T requireTensor(Tensor t, String argument);

    /**
     * @return {@code scope} as a scope of this backend
     * @throws IllegalArgumentException if it is null or belongs to another backend
     */
    protected abstract S requireScope(TensorScope scope, String argument);

    private void checkOpen() {
        TensorChecks.checkScopeOpen(isClosed());
    }
}
