package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.influence4j.api.DType;

/**
 * A {@link org.influence4j.api.TensorScope} over a DJL {@link NDManager} of the TensorFlow engine
 * (eager tensors; host data is copied into TensorFlow-owned memory): tensors created here,
 * and results of operations on them, are attached to the manager and freed when the scope closes.
 * {@link #newChild()} returns a scope over a sub-manager (closed with its parent).
 *
 * <p>Not thread-safe: use one scope per thread.
 */
public final class TfTensorScope implements org.influence4j.api.TensorScope {

    private final TfBackend backend;
    private final NDManager manager;
    private volatile boolean closed;

    TfTensorScope(TfBackend backend, NDManager manager) {
        this.backend = backend;
        this.manager = manager;
    }

    @Override
    public TfBackend backend() {
        return backend;
    }

    /** @return the DJL manager behind this scope (closing it closes the scope) */
    public NDManager manager() {
        checkOpen();
        return manager;
    }

    /** @return whether the scope (or its manager, e.g. through a parent) was closed */
    public boolean isClosed() {
        return closed || !manager.isOpen();
    }

    /**
     * Wraps an array as a tensor of this scope, attaching it to this scope's manager if needed.
     *
     * @throws IllegalArgumentException if the array is not float32/float64
     */
    public TfTensor wrap(NDArray array) {
        checkOpen();
        TfDTypes.fromDjl(array.getDataType());
        if (array.getManager() != manager) {
            array.attach(manager);
        }
        return new TfTensor(array, this);
    }

    @Override
    public TfTensor fromArray(double[] data, DType dtype, long... shape) {
        checkOpen();
        if (data == null) {
            throw new IllegalArgumentException("fromArray: data must not be null");
        }
        long n = checkShape("fromArray", shape);
        if (n != data.length) {
            throw new IllegalArgumentException("fromArray: data has " + data.length + " values but shape "
                    + Arrays.toString(shape) + " needs " + n);
        }
        return new TfTensor(TfDTypes.create(manager, data, new Shape(shape), TfDTypes.toDjl(dtype)), this);
    }

    @Override
    public TfTensor zeros(DType dtype, long... shape) {
        checkOpen();
        checkShape("zeros", shape);
        return new TfTensor(manager.zeros(new Shape(shape), TfDTypes.toDjl(dtype)), this);
    }

    @Override
    public TfTensor eye(DType dtype, long n) {
        checkOpen();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("eye: n must be in [0, 2^31), got " + n);
        }
        return new TfTensor(manager.eye((int) n, (int) n, 0, TfDTypes.toDjl(dtype)), this);
    }

    @Override
    public TfTensorScope newChild() {
        checkOpen();
        return new TfTensorScope(backend, manager.newSubManager());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }

    private void checkOpen() {
        if (isClosed()) {
            throw new IllegalStateException("tensor scope is closed; create tensors in an open scope");
        }
    }

    private static long checkShape(String op, long[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException(op + ": shape must not be null (a scalar is new long[0])");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape)
                        + " has a negative dimension");
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        return "TfTensorScope[" + manager.getName() + (isClosed() ? ", closed" : "") + "]";
    }
}
