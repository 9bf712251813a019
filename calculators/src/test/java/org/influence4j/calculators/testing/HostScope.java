package org.influence4j.calculators.testing;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/** A scope that tracks its tensors, so that tests can check lifetimes and leaks. */
public final class HostScope implements TensorScope {

    private final HostScope parent;
    private final Set<HostTensor> tensors = new LinkedHashSet<>();
    private final List<HostScope> children = new ArrayList<>();
    private boolean closed;

    HostScope(HostScope parent) {
        this.parent = parent;
    }

    @Override
    public Backend backend() {
        return HostBackend.INSTANCE;
    }

    @Override
    public HostTensor fromArray(double[] data, DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("fromArray: " + data.length + " values for shape "
                    + java.util.Arrays.toString(shape));
        }
        return register(new HostTensor(this, data.clone(), shape.clone(), dtype));
    }

    @Override
    public HostTensor zeros(DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return register(new HostTensor(this, new double[(int) n], shape.clone(), dtype));
    }

    @Override
    public HostTensor eye(DType dtype, long n) {
        double[] d = new double[(int) (n * n)];
        for (int i = 0; i < n; i++) {
            d[i * (int) n + i] = 1;
        }
        return register(new HostTensor(this, d, new long[] {n, n}, dtype));
    }

    @Override
    public HostScope newChild() {
        requireOpen();
        HostScope child = new HostScope(this);
        children.add(child);
        return child;
    }

    HostTensor register(HostTensor t) {
        requireOpen();
        tensors.add(t);
        return t;
    }

    void release(HostTensor t) {
        tensors.remove(t);
    }

    void adopt(HostTensor t) {
        requireOpen();
        tensors.add(t);
    }

    boolean isClosed() {
        return closed || (parent != null && parent.isClosed());
    }

    private void requireOpen() {
        if (isClosed()) {
            throw new IllegalStateException("scope is closed");
        }
    }

    /** @return tensors still open in this scope and its open children */
    public int liveTensors() {
        int n = 0;
        for (HostTensor t : tensors) {
            if (!t.isClosed()) {
                n++;
            }
        }
        for (HostScope c : children) {
            if (!c.closed) {
                n += c.liveTensors();
            }
        }
        return n;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        for (HostScope c : new ArrayList<>(children)) {
            c.close();
        }
        for (HostTensor t : new ArrayList<>(tensors)) {
            t.close();
        }
        tensors.clear();
        closed = true;
        if (parent != null) {
            parent.children.remove(this);
        }
    }
}
