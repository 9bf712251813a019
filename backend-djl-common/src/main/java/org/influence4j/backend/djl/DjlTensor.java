package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.function.Function;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;

/**
 * A {@link Tensor} over a DJL {@link NDArray}. Results of operations belong to this tensor's
 * {@link #scope()} (the receiver's {@code NDManager}); arguments of the other dtype are converted
 * to the receiver's dtype; arguments must be tensors of the same backend (any scope of it). Shape
 * errors throw {@link IllegalArgumentException} naming both shapes. No operation modifies its
 * receiver or arguments.
 *
 * <p>Scalar factors ({@link #scale}, {@link #axpy}) are made as arrays by the scope's
 * {@link DjlTensorScope#scalarArray} hook, never passed to DJL as Java numbers; matrix-vector
 * products go through {@link DjlTensorScope#matVec}. Whether results of {@link #transpose()},
 * {@link #rows}, {@link #reshape} share storage with the receiver is the engine's business; the
 * backends document it on their subclasses.
 *
 * @param <T> the backend's tensor type (this subclass)
 * @param <S> the backend's scope type
 */
public abstract class DjlTensor<T extends DjlTensor<T, S>, S extends DjlTensorScope<T, S>> implements Tensor {

    private final NDArray array;
    private S scope;
    private boolean closed;

    /**
     * @param array the array, owned by the new tensor and attached to {@code scope}'s manager
     * @param scope the scope the tensor belongs to
     */
    protected DjlTensor(NDArray array, S scope) {
        this.array = array;
        this.scope = scope;
    }

    /** @return the DJL array behind this tensor (owned by it: close the tensor, not the array) */
    public final NDArray ndArray() {
        checkOpen();
        return array;
    }

    @Override
    public final long[] shape() {
        checkOpen();
        return array.getShape().getShape();
    }

    @Override
    public final DType dtype() {
        checkOpen();
        return DjlDTypes.fromDjl(array.getDataType(), scope.engine());
    }

    @Override
    public final S scope() {
        return scope;
    }

    @Override
    public final T matmul(Tensor other) {
        T o = cast(other, "matmul");
        long[] b = o.shape();
        TensorChecks.checkMatmul(shape(), b);
        if (b.length == 1) {
            return withOperand(o, on -> scope.matVec(array, on));
        }
        return withOperand(o, array::matMul);
    }

    @Override
    public final T transpose() {
        TensorChecks.checkTranspose(shape());
        return result(array.transpose());
    }

    @Override
    public final T add(Tensor other) {
        T o = sameShape(other, "add");
        return withOperand(o, array::add);
    }

    @Override
    public final T sub(Tensor other) {
        T o = sameShape(other, "sub");
        return withOperand(o, array::sub);
    }

    @Override
    public final T mul(Tensor other) {
        T o = sameShape(other, "mul");
        return withOperand(o, array::mul);
    }

    @Override
    public final T scale(double alpha) {
        checkOpen();
        try (NDArray factor = scope.scalarArray(array.getManager(), alpha, array.getDataType())) {
            return result(array.mul(factor));
        }
    }

    @Override
    public final T axpy(double alpha, Tensor x) {
        T o = sameShape(x, "axpy");
        return withOperand(o, on -> {
            try (NDArray factor = scope.scalarArray(array.getManager(), alpha, array.getDataType());
                 NDArray scaled = on.mul(factor)) {
                return array.add(scaled);
            }
        });
    }

    @Override
    public final double dot(Tensor other) {
        T o = sameShape(other, "dot");
        NDArray on = arrayOf(o);
        NDArray converted = on.getDataType() == array.getDataType() ? null : on.toType(array.getDataType(), true);
        try (NDArray p = array.mul(converted == null ? on : converted); NDArray s = p.sum()) {
            return DjlDTypes.scalarValue(s, scope.engine());
        } finally {
            if (converted != null) {
                converted.close();
            }
        }
    }

    @Override
    public final double norm() {
        checkOpen();
        try (NDArray sq = array.square(); NDArray s = sq.sum()) {
            return Math.sqrt(DjlDTypes.scalarValue(s, scope.engine()));
        }
    }

    @Override
    public final T rowDots(Tensor other) {
        T o = sameShape(other, "rowDots");
        TensorChecks.checkRowDots(shape());
        return withOperand(o, on -> {
            try (NDArray p = array.mul(on)) {
                return p.sum(new int[] {1});
            }
        });
    }

    @Override
    public final T scaleRows(Tensor factors) {
        T o = cast(factors, "scaleRows");
        long[] a = shape();
        TensorChecks.checkScaleRows(a, o.shape());
        return withOperand(o, on -> {
            try (NDArray column = on.reshape(a[0], 1)) {
                return array.mul(column);
            }
        });
    }

    @Override
    public final T rows(long from, long to) {
        TensorChecks.checkRows(shape(), from, to);
        return result(array.get(new NDIndex().addSliceDim(from, to)));
    }

    /** {@inheritDoc} Natively, by the scope's {@link DjlTensorScope#gatherRows}. */
    @Override
    public final T gatherRows(int[] index) {
        TensorChecks.checkGatherRows(shape(), index);
        return result(scope.gatherRows(array, index));
    }

    @Override
    public final T reshape(long... newShape) {
        TensorChecks.checkReshape(shape(), newShape);
        return result(array.reshape(new Shape(newShape)));
    }

    @Override
    public final T concat(Tensor other) {
        T o = cast(other, "concat");
        TensorChecks.checkConcat(shape(), o.shape());
        return withOperand(o, on -> array.concat(on, 0));
    }

    @Override
    public final T toType(DType dtype) {
        checkOpen();
        return result(array.toType(DjlDTypes.toDjl(dtype), true));
    }

    @Override
    public final double[] toDoubleArray() {
        checkOpen();
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT64, true)) {
            return converted.toDoubleArray();
        }
    }

    @Override
    public final float[] toFloatArray() {
        checkOpen();
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT32, true)) {
            return converted.toFloatArray();
        }
    }

    @Override
    public final T moveTo(TensorScope target) {
        checkOpen();
        S t = scope.requireScope(target, "moveTo");
        array.attach(t.manager());
        scope = t;
        return self();
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            array.close();
        }
    }

    /** @return whether this tensor (or its scope) was closed */
    public final boolean isClosed() {
        return closed || array.isReleased();
    }

    @Override
    public String toString() {
        String name = getClass().getSimpleName();
        if (isClosed()) {
            return name + "[closed]";
        }
        return name + "[" + array.getDataType() + " " + Arrays.toString(shape()) + "]";
    }

    /**
     * The check behind each backend's {@code require}: {@code t} as an open tensor of type {@code type}.
     *
     * @param engine the backend's name (e.g. {@code djl-pytorch}) for the message
     * @param argument the argument's name for the message
     * @throws IllegalArgumentException if {@code t} is null or not a {@code type}
     * @throws IllegalStateException if it was closed
     */
    protected static <T extends DjlTensor<T, ?>> T require(Class<T> type, String engine, Tensor t,
            String argument) {
        T dt = TensorChecks.requireType(type, t, argument, "a " + engine + " tensor");
        ((DjlTensor<?, ?>) dt).checkOpen();
        return dt;
    }

    private static NDArray arrayOf(DjlTensor<?, ?> t) {
        return t.array;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    private T result(NDArray r) {
        if (r.getManager() != array.getManager()) {
            r.attach(array.getManager());
        }
        return scope.newTensor(r);
    }

    private T withOperand(T other, Function<NDArray, NDArray> op) {
        NDArray on = arrayOf(other);
        if (on.getDataType() == array.getDataType()) {
            return result(op.apply(on));
        }
        try (NDArray converted = on.toType(array.getDataType(), true)) {
            return result(op.apply(converted));
        }
    }

    private T sameShape(Tensor other, String op) {
        T o = cast(other, op);
        TensorChecks.checkSameShape(op, shape(), o.shape());
        return o;
    }

    private T cast(Tensor other, String op) {
        checkOpen();
        return scope.requireTensor(other, op);
    }

    private void checkOpen() {
        TensorChecks.checkTensorOpen(isClosed());
    }
}
