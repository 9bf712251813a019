package org.influence4j.backend.nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.influence4j.api.DType;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link TensorScope} that owns {@link Nd4jTensor}s and closes their {@code INDArray}s
 * ({@link INDArray#close()}, which frees the native buffer at once) when it closes. Tensors created
 * here, and results of operations on them, are registered with the scope; {@link Nd4jTensor#close()}
 * and {@link Nd4jTensor#moveTo} unregister them. {@link #newChild()} returns a scope that is closed
 * with its parent.
 *
 * <p>Every array of a scope lives outside ND4J workspaces and owns its buffer (never a view of
 * another tensor's buffer), so its lifetime depends on no other tensor.
 *
 * <p>Not thread-safe: use one scope per thread.
 */
public final class Nd4jTensorScope implements TensorScope {

    private final Nd4jBackend backend;
    private final Set<Nd4jTensor> tensors = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Nd4jTensorScope> children = new ArrayList<>();
    private final Nd4jTensorScope parent;
    private boolean closed;

    Nd4jTensorScope(Nd4jBackend backend, Nd4jTensorScope parent) {
        this.backend = backend;
        this.parent = parent;
    }

    @Override
    public Nd4jBackend backend() {
        return backend;
    }

    /** @return whether this scope (or a parent) was closed */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Wraps an array as a tensor of this scope. The array must be detached from ND4J workspaces and
     * own its buffer (not a view); the scope takes ownership and closes it.
     *
     * @throws IllegalArgumentException if the array is not FLOAT/DOUBLE, is a view, or lives in a workspace
     */
    public Nd4jTensor wrap(INDArray array) {
        checkOpen();
        if (array == null) {
            throw new IllegalArgumentException("wrap: array must not be null");
        }
        Nd4jDTypes.fromNd4j(array.dataType());
        if (array.isView() || array.isAttached()) {
            throw new IllegalArgumentException("wrap: the array is a view or lives in a workspace; pass array.detach()"
                    + " or array.dup() so that the tensor owns its buffer");
        }
        Nd4jTensor t = new Nd4jTensor(array, this);
        tensors.add(t);
        return t;
    }

    @Override
    public Nd4jTensor fromArray(double[] data, DType dtype, long... shape) {
        checkOpen();
        TensorChecks.checkFromArray(data, shape);
        DataType type = Nd4jDTypes.toNd4j(dtype);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return wrap(Nd4jArrays.create(data, shape, type));
        }
    }

    @Override
    public Nd4jTensor zeros(DType dtype, long... shape) {
        checkOpen();
        TensorChecks.checkShape("zeros", shape);
        DataType type = Nd4jDTypes.toNd4j(dtype);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return wrap(Nd4j.zeros(type, shape));
        }
    }

    @Override
    public Nd4jTensor eye(DType dtype, long n) {
        checkOpen();
        TensorChecks.checkEye(n);
        DataType type = Nd4jDTypes.toNd4j(dtype);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray eye = Nd4j.zeros(type, n, n);
            for (long i = 0; i < n; i++) {
                eye.putScalar(new long[] {i, i}, 1.0);
            }
            return wrap(eye);
        }
    }

    @Override
    public Nd4jTensorScope newChild() {
        checkOpen();
        Nd4jTensorScope child = new Nd4jTensorScope(backend, this);
        children.add(child);
        return child;
    }

    /** Closes every tensor still owned by this scope and its children. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Nd4jTensorScope child : List.copyOf(children)) {
            child.close();
        }
        children.clear();
        for (Nd4jTensor t : List.copyOf(tensors)) {
            t.release();
        }
        tensors.clear();
        if (parent != null) {
            parent.children.remove(this);
        }
    }

    void register(Nd4jTensor t) {
        checkOpen();
        tensors.add(t);
    }

    void unregister(Nd4jTensor t) {
        tensors.remove(t);
    }

    /** @return the number of open tensors this scope owns (not counting children) */
    int size() {
        return tensors.size();
    }

    void checkOpen() {
        TensorChecks.checkScopeOpen(closed);
    }

    @Override
    public String toString() {
        return "Nd4jTensorScope[" + tensors.size() + " tensors" + (closed ? ", closed" : "") + "]";
    }
}
