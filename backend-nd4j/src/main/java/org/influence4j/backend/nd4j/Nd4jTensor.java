package org.influence4j.backend.nd4j;

import java.util.Arrays;
import java.util.function.Function;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A {@link Tensor} over an ND4J {@link INDArray} that owns its buffer.
 *
 * <p>Every result is a new array outside ND4J workspaces with its own buffer: {@link #transpose()},
 * {@link #rows}, {@link #reshape} copy instead of returning views, so closing a tensor (or its
 * scope) never invalidates another tensor. Results belong to the receiver's scope; arguments of
 * the other dtype are converted to the receiver's.
 */
public final class Nd4jTensor implements Tensor {

    private final INDArray array;
    private Nd4jTensorScope scope;
    private boolean closed;

    Nd4jTensor(INDArray array, Nd4jTensorScope scope) {
        this.array = array;
        this.scope = scope;
    }

    /** @return the ND4J array behind this tensor (owned by it: close the tensor, not the array) */
    public INDArray array() {
        checkOpen();
        return array;
    }

    @Override
    public long[] shape() {
        checkOpen();
        return array.shape().clone();
    }

    @Override
    public DType dtype() {
        checkOpen();
        return Nd4jDTypes.fromNd4j(array.dataType());
    }

    @Override
    public Nd4jTensorScope scope() {
        return scope;
    }

    @Override
    public Nd4jTensor matmul(Tensor other) {
        Nd4jTensor o = cast(other, "matmul");
        long[] a = shape();
        long[] b = o.shape();
        TensorChecks.checkMatmul(a, b);
        return withOperand(o, on -> {
            if (a[0] == 0 || a[1] == 0 || (b.length == 2 && b[1] == 0)) {
                return b.length == 1 ? Nd4j.zeros(array.dataType(), a[0]) : Nd4j.zeros(array.dataType(), a[0], b[1]);
            }
            if (b.length == 1) {
                INDArray column = array.mmul(on.reshape(b[0], 1));
                try {
                    return Nd4jArrays.reshapedCopy(column, new long[] {a[0]});
                } finally {
                    Nd4jArrays.free(column);
                }
            }
            return array.mmul(on);
        });
    }

    @Override
    public Nd4jTensor transpose() {
        TensorChecks.checkTranspose(shape());
        return compute(() -> array.transpose().dup('c'));
    }

    @Override
    public Nd4jTensor add(Tensor other) {
        Nd4jTensor o = sameShape(other, "add");
        return withOperand(o, array::add);
    }

    @Override
    public Nd4jTensor sub(Tensor other) {
        Nd4jTensor o = sameShape(other, "sub");
        return withOperand(o, array::sub);
    }

    @Override
    public Nd4jTensor mul(Tensor other) {
        Nd4jTensor o = sameShape(other, "mul");
        return withOperand(o, array::mul);
    }

    @Override
    public Nd4jTensor scale(double alpha) {
        checkOpen();
        return compute(() -> array.mul(alpha));
    }

    @Override
    public Nd4jTensor axpy(double alpha, Tensor x) {
        Nd4jTensor o = sameShape(x, "axpy");
        return withOperand(o, on -> on.mul(alpha).addi(array));
    }

    @Override
    public double dot(Tensor other) {
        Nd4jTensor o = sameShape(other, "dot");
        if (array.length() == 0) {
            return 0.0;
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray on = converted(o.array);
            INDArray p = array.mul(on);
            try {
                return p.sumNumber().doubleValue();
            } finally {
                p.close();
                if (on != o.array) {
                    on.close();
                }
            }
        }
    }

    @Override
    public double norm() {
        checkOpen();
        if (array.length() == 0) {
            return 0.0;
        }
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return array.norm2Number().doubleValue();
        }
    }

    @Override
    public Nd4jTensor rowDots(Tensor other) {
        Nd4jTensor o = sameShape(other, "rowDots");
        long[] a = shape();
        TensorChecks.checkRowDots(a);
        return withOperand(o, on -> {
            if (a[0] == 0 || a[1] == 0) {
                return Nd4j.zeros(array.dataType(), a[0]);
            }
            INDArray p = array.mul(on);
            try {
                INDArray sums = p.sum(1);
                try {
                    return Nd4jArrays.reshapedCopy(sums, new long[] {a[0]});
                } finally {
                    Nd4jArrays.free(sums);
                }
            } finally {
                p.close();
            }
        });
    }

    @Override
    public Nd4jTensor scaleRows(Tensor factors) {
        Nd4jTensor o = cast(factors, "scaleRows");
        long[] a = shape();
        TensorChecks.checkScaleRows(a, o.shape());
        return withOperand(o, on -> {
            if (a[0] == 0 || a[1] == 0) {
                return Nd4j.zeros(array.dataType(), a[0], a[1]);
            }
            return array.mulColumnVector(on.reshape(a[0], 1));
        });
    }

    @Override
    public Nd4jTensor rows(long from, long to) {
        long[] a = shape();
        TensorChecks.checkRows(a, from, to);
        return compute(() -> {
            long[] s = a.clone();
            s[0] = to - from;
            if (from == to || numel() == 0) {
                return Nd4j.zeros(array.dataType(), s);
            }
            INDArrayIndex[] index = new INDArrayIndex[a.length];
            index[0] = NDArrayIndex.interval(from, to);
            for (int d = 1; d < a.length; d++) {
                index[d] = NDArrayIndex.all();
            }
            return array.get(index).dup('c');
        });
    }

    /** {@inheritDoc} Natively, by ND4J's {@code pullRows}. */
    @Override
    public Nd4jTensor gatherRows(int[] index) {
        long[] a = shape();
        TensorChecks.checkGatherRows(a, index);
        return compute(() -> index.length == 0 || a[1] == 0 ? Nd4j.zeros(array.dataType(), index.length, a[1])
                : Nd4j.pullRows(array, 1, index.clone()));
    }

    @Override
    public Nd4jTensor reshape(long... newShape) {
        long n = TensorChecks.checkReshape(shape(), newShape);
        long[] target = newShape.clone();
        return compute(() -> {
            if (n == 0) {
                return Nd4j.zeros(array.dataType(), target);
            }
            if (target.length == 0) {
                return Nd4j.scalar(array.dataType(), array.getDouble(0));
            }
            return Nd4jArrays.reshapedCopy(array, target);
        });
    }

    @Override
    public Nd4jTensor concat(Tensor other) {
        Nd4jTensor o = cast(other, "concat");
        long[] a = shape();
        long[] b = o.shape();
        TensorChecks.checkConcat(a, b);
        return withOperand(o, on -> {
            if (on.length() == 0) {
                long[] s = a.clone();
                s[0] = a[0] + b[0];
                return s[0] == 0 || array.length() == 0 ? Nd4j.zeros(array.dataType(), s) : array.dup('c');
            }
            if (array.length() == 0) {
                long[] s = b.clone();
                s[0] = a[0] + b[0];
                return Nd4jArrays.reshapedCopy(on, s);
            }
            return Nd4j.concat(0, array, on);
        });
    }

    @Override
    public Nd4jTensor toType(DType dtype) {
        checkOpen();
        DataType type = Nd4jDTypes.toNd4j(dtype);
        return compute(() -> type == array.dataType() ? array.dup('c') : array.castTo(type));
    }

    @Override
    public double[] toDoubleArray() {
        checkOpen();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4jArrays.toDoubles(array);
        }
    }

    @Override
    public float[] toFloatArray() {
        checkOpen();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4jArrays.toFloats(array);
        }
    }

    @Override
    public Nd4jTensor moveTo(TensorScope target) {
        checkOpen();
        Nd4jTensorScope t = scope.backend().requireScope(target, "moveTo");
        t.checkOpen();
        if (t != scope) {
            scope.unregister(this);
            t.register(this);
            scope = t;
        }
        return this;
    }

    @Override
    public void close() {
        if (!closed) {
            scope.unregister(this);
            release();
        }
    }

    /** Frees the buffer without touching the scope's registry (used by the scope while closing). */
    void release() {
        if (!closed) {
            closed = true;
            if (array.closeable()) {
                array.close();
            }
        }
    }

    /** @return whether this tensor (or its scope) was closed */
    public boolean isClosed() {
        return closed || array.wasClosed();
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return "Nd4jTensor[closed]";
        }
        return "Nd4jTensor[" + array.dataType() + " " + Arrays.toString(shape()) + "]";
    }

    private Nd4jTensor compute(java.util.function.Supplier<INDArray> op) {
        checkOpen();
        scope.checkOpen();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray out = op.get();
            // some ND4J ops return a view of another array (e.g. mmul of a single row); the tensor
            // must own its buffer, so such a result is copied (the view itself owns nothing)
            return scope.wrap(out.isView() ? out.dup('c') : out);
        }
    }

    private Nd4jTensor withOperand(Nd4jTensor other, Function<INDArray, INDArray> op) {
        return compute(() -> {
            INDArray on = converted(other.array);
            try {
                return op.apply(on);
            } finally {
                if (on != other.array) {
                    on.close();
                }
            }
        });
    }

    /** @return {@code a} in this tensor's data type (a new array if it had another) */
    private INDArray converted(INDArray a) {
        return a.dataType() == array.dataType() ? a : a.castTo(array.dataType());
    }

    private Nd4jTensor sameShape(Tensor other, String op) {
        Nd4jTensor o = cast(other, op);
        TensorChecks.checkSameShape(op, shape(), o.shape());
        return o;
    }

    private Nd4jTensor cast(Tensor other, String op) {
        checkOpen();
        return require(other, op);
    }

    /**
     * @return {@code t} as an open {@code Nd4jTensor}
     * @throws IllegalArgumentException if it is null or belongs to another backend
     * @throws IllegalStateException if it was closed
     */
    static Nd4jTensor require(Tensor t, String argument) {
        Nd4jTensor nt = TensorChecks.requireType(Nd4jTensor.class, t, argument, "an nd4j tensor");
        nt.checkOpen();
        return nt;
    }

    private void checkOpen() {
        TensorChecks.checkTensorOpen(isClosed());
    }
}
