package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.function.Function;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * A {@link Tensor} over a DJL {@link NDArray} of the TensorFlow engine (an eager TensorFlow tensor
 * handle; every operation runs as one eager TF op). Results of operations belong to this tensor's
 * {@link #scope()} (the receiver's {@code NDManager}); arguments of the other dtype are converted to
 * the receiver's dtype; arguments must be {@code TfTensor}s (any scope of this backend). Shape errors
 * throw {@link IllegalArgumentException} naming both shapes.
 *
 * <p>TensorFlow copies host data into memory it owns and reference-counts its buffers, so results of
 * {@link #transpose()}, {@link #rows}, {@link #reshape} stay valid when the receiver is closed.
 */
public final class TfTensor implements Tensor {

    private final NDArray array;
    private TfTensorScope scope;
    private boolean closed;

    TfTensor(NDArray array, TfTensorScope scope) {
        this.array = array;
        this.scope = scope;
    }

    /** @return the DJL array behind this tensor (owned by it: close the tensor, not the array) */
    public NDArray ndArray() {
        checkOpen();
        return array;
    }

    @Override
    public long[] shape() {
        checkOpen();
        return array.getShape().getShape();
    }

    @Override
    public DType dtype() {
        checkOpen();
        return TfDTypes.fromDjl(array.getDataType());
    }

    @Override
    public TfTensorScope scope() {
        return scope;
    }

    @Override
    public TfTensor matmul(Tensor other) {
        TfTensor o = cast(other, "matmul");
        long[] a = shape();
        long[] b = o.shape();
        if (a.length != 2 || (b.length != 1 && b.length != 2) || a[1] != b[0]) {
            throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " do not align; expected [a,b] x [b,c] or [a,b] x [b]");
        }
        if (b.length == 1) {
            return withOperand(o, on -> {
                try (NDArray column = on.reshape(b[0], 1); NDArray product = array.matMul(column)) {
                    return product.reshape(a[0]);
                }
            });
        }
        return withOperand(o, array::matMul);
    }

    @Override
    public TfTensor transpose() {
        long[] a = shape();
        if (a.length != 2) {
            throw new IllegalArgumentException("transpose: needs a matrix, got shape " + Arrays.toString(a));
        }
        return result(array.transpose());
    }

    @Override
    public TfTensor add(Tensor other) {
        TfTensor o = sameShape(other, "add");
        return withOperand(o, array::add);
    }

    @Override
    public TfTensor sub(Tensor other) {
        TfTensor o = sameShape(other, "sub");
        return withOperand(o, array::sub);
    }

    @Override
    public TfTensor mul(Tensor other) {
        TfTensor o = sameShape(other, "mul");
        return withOperand(o, array::mul);
    }

    @Override
    public TfTensor scale(double alpha) {
        checkOpen();
        try (NDArray factor = TfDTypes.scalar(array.getManager(), alpha, array.getDataType())) {
            return result(array.mul(factor));
        }
    }

    @Override
    public TfTensor axpy(double alpha, Tensor x) {
        TfTensor o = sameShape(x, "axpy");
        return withOperand(o, on -> {
            try (NDArray factor = TfDTypes.scalar(array.getManager(), alpha, array.getDataType());
                 NDArray scaled = on.mul(factor)) {
                return array.add(scaled);
            }
        });
    }

    @Override
    public double dot(Tensor other) {
        TfTensor o = sameShape(other, "dot");
        NDArray on = o.array;
        NDArray converted = on.getDataType() == array.getDataType() ? null : on.toType(array.getDataType(), true);
        try (NDArray p = array.mul(converted == null ? on : converted); NDArray s = p.sum()) {
            return TfDTypes.scalarValue(s);
        } finally {
            if (converted != null) {
                converted.close();
            }
        }
    }

    @Override
    public double norm() {
        checkOpen();
        try (NDArray sq = array.square(); NDArray s = sq.sum()) {
            return Math.sqrt(TfDTypes.scalarValue(s));
        }
    }

    @Override
    public TfTensor rowDots(Tensor other) {
        TfTensor o = sameShape(other, "rowDots");
        if (array.getShape().dimension() != 2) {
            throw new IllegalArgumentException("rowDots: needs two matrices [k,p], got shape "
                    + Arrays.toString(shape()));
        }
        return withOperand(o, on -> {
            try (NDArray p = array.mul(on)) {
                return p.sum(new int[] {1});
            }
        });
    }

    @Override
    public TfTensor scaleRows(Tensor factors) {
        TfTensor o = cast(factors, "scaleRows");
        long[] a = shape();
        long[] f = o.shape();
        if (a.length != 2 || f.length != 1 || f[0] != a[0]) {
            throw new IllegalArgumentException("scaleRows: needs a matrix [k,p] and factors [k], got shapes "
                    + Arrays.toString(a) + " and " + Arrays.toString(f));
        }
        return withOperand(o, on -> {
            try (NDArray column = on.reshape(a[0], 1)) {
                return array.mul(column);
            }
        });
    }

    @Override
    public TfTensor rows(long from, long to) {
        long[] a = shape();
        if (a.length == 0) {
            throw new IllegalArgumentException("rows: a scalar has no rows");
        }
        if (from < 0 || to > a[0] || from > to) {
            throw new IllegalArgumentException("rows: range [" + from + ", " + to + ") is outside the "
                    + a[0] + " rows of shape " + Arrays.toString(a));
        }
        return result(array.get(new NDIndex().addSliceDim(from, to)));
    }

    @Override
    public TfTensor reshape(long... newShape) {
        long[] a = shape();
        if (newShape == null) {
            throw new IllegalArgumentException("reshape: newShape must not be null");
        }
        long n = 1;
        for (long d : newShape) {
            if (d < 0) {
                throw new IllegalArgumentException("reshape: shape " + Arrays.toString(newShape)
                        + " has a negative dimension");
            }
            n *= d;
        }
        if (n != numel()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(a) + " (" + numel()
                    + " elements) to " + Arrays.toString(newShape) + " (" + n + " elements)");
        }
        return result(array.reshape(new Shape(newShape)));
    }

    @Override
    public TfTensor concat(Tensor other) {
        TfTensor o = cast(other, "concat");
        long[] a = shape();
        long[] b = o.shape();
        boolean ok = a.length >= 1 && a.length == b.length;
        for (int i = 1; ok && i < a.length; i++) {
            ok = a[i] == b[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("concat: shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " cannot be stacked along dimension 0; all other dimensions must agree");
        }
        return withOperand(o, on -> array.concat(on, 0));
    }

    @Override
    public TfTensor toType(DType dtype) {
        checkOpen();
        return result(array.toType(TfDTypes.toDjl(dtype), true));
    }

    @Override
    public double[] toDoubleArray() {
        checkOpen();
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT64, true)) {
            return converted.toDoubleArray();
        }
    }

    @Override
    public float[] toFloatArray() {
        checkOpen();
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT32, true)) {
            return converted.toFloatArray();
        }
    }

    @Override
    public TfTensor moveTo(TensorScope target) {
        checkOpen();
        TfTensorScope t = scope.backend().requireScope(target, "moveTo");
        array.attach(t.manager());
        scope = t;
        return this;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            array.close();
        }
    }

    /** @return whether this tensor (or its scope) was closed */
    public boolean isClosed() {
        return closed || array.isReleased();
    }

    @Override
    public String toString() {
        if (isClosed()) {
            return "TfTensor[closed]";
        }
        return "TfTensor[" + array.getDataType() + " " + Arrays.toString(shape()) + "]";
    }

    private TfTensor result(NDArray r) {
        if (r.getManager() != array.getManager()) {
            r.attach(array.getManager());
        }
        return new TfTensor(r, scope);
    }

    private TfTensor withOperand(TfTensor other, Function<NDArray, NDArray> op) {
        NDArray on = other.array;
        if (on.getDataType() == array.getDataType()) {
            return result(op.apply(on));
        }
        try (NDArray converted = on.toType(array.getDataType(), true)) {
            return result(op.apply(converted));
        }
    }

    private TfTensor sameShape(Tensor other, String op) {
        TfTensor o = cast(other, op);
        long[] a = shape();
        long[] b = o.shape();
        if (!Arrays.equals(a, b)) {
            throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " differ; both operands must have the same shape");
        }
        return o;
    }

    private TfTensor cast(Tensor other, String op) {
        checkOpen();
        return require(other, op);
    }

    /**
     * @return {@code t} as an open {@code TfTensor}
     * @throws IllegalArgumentException if it is null or belongs to another backend
     * @throws IllegalStateException if it was closed
     */
    static TfTensor require(Tensor t, String argument) {
        if (!(t instanceof TfTensor pt)) {
            throw new IllegalArgumentException(argument + ": expected a djl-tf tensor, got "
                    + (t == null ? "null" : t.getClass().getName()));
        }
        pt.checkOpen();
        return pt;
    }

    private void checkOpen() {
        if (isClosed()) {
            throw new IllegalStateException("tensor is closed (close() was called or its scope was closed)");
        }
    }
}
