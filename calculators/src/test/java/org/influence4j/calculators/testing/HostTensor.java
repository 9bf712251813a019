package org.influence4j.calculators.testing;

import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * A row-major array on the heap. FLOAT32 tensors round every value to float, so that precision
 * effects show up as on a real backend. Using a closed tensor (or one of a closed scope) throws.
 */
public final class HostTensor implements Tensor {

    private HostScope scope;
    private final double[] data;
    private final long[] shape;
    private final DType dtype;
    private boolean closed;

    HostTensor(HostScope scope, double[] data, long[] shape, DType dtype) {
        this.scope = scope;
        this.shape = shape;
        this.dtype = dtype;
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) data[i];
            }
        }
        this.data = data;
    }

    private HostTensor make(double[] values, long... newShape) {
        return scope.register(new HostTensor(scope, values, newShape, dtype));
    }

    double[] raw() {
        requireOpen();
        return data;
    }

    boolean isClosed() {
        return closed || scope.isClosed();
    }

    private void requireOpen() {
        if (isClosed()) {
            throw new IllegalStateException("tensor " + Arrays.toString(shape) + " used after it was closed");
        }
    }

    private static HostTensor host(Tensor t) {
        if (!(t instanceof HostTensor h)) {
            throw new IllegalArgumentException("not a host tensor: " + t);
        }
        h.requireOpen();
        return h;
    }

    private void requireSameShape(Tensor other, String op) {
        if (!Arrays.equals(shape, other.shape())) {
            throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(shape) + " and "
                    + Arrays.toString(other.shape()) + " differ");
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public TensorScope scope() {
        return scope;
    }

    @Override
    public Tensor matmul(Tensor other) {
        requireOpen();
        HostTensor o = host(other);
        if (shape.length != 2) {
            throw new IllegalArgumentException("matmul: receiver must be a matrix, got " + Arrays.toString(shape));
        }
        int a = (int) shape[0];
        int b = (int) shape[1];
        if (o.shape[0] != b) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Arrays.toString(shape) + " x "
                    + Arrays.toString(o.shape));
        }
        if (o.shape.length == 1) {
            double[] out = new double[a];
            for (int i = 0; i < a; i++) {
                double s = 0;
                for (int j = 0; j < b; j++) {
                    s += data[i * b + j] * o.data[j];
                }
                out[i] = s;
            }
            return make(out, a);
        }
        int c = (int) o.shape[1];
        double[] out = new double[a * c];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                double v = data[i * b + j];
                if (v != 0) {
                    for (int l = 0; l < c; l++) {
                        out[i * c + l] += v * o.data[j * c + l];
                    }
                }
            }
        }
        return make(out, a, c);
    }

    @Override
    public Tensor transpose() {
        requireOpen();
        if (shape.length != 2) {
            throw new IllegalArgumentException("transpose: not a matrix " + Arrays.toString(shape));
        }
        int a = (int) shape[0];
        int b = (int) shape[1];
        double[] out = new double[a * b];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                out[j * a + i] = data[i * b + j];
            }
        }
        return make(out, b, a);
    }

    @Override
    public Tensor add(Tensor other) {
        return axpy(1.0, other);
    }

    @Override
    public Tensor sub(Tensor other) {
        return axpy(-1.0, other);
    }

    @Override
    public Tensor mul(Tensor other) {
        requireOpen();
        requireSameShape(other, "mul");
        HostTensor o = host(other);
        double[] out = new double[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] * o.data[i];
        }
        return make(out, shape.clone());
    }

    @Override
    public Tensor scale(double alpha) {
        requireOpen();
        double[] out = new double[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alpha * data[i];
        }
        return make(out, shape.clone());
    }

    @Override
    public Tensor axpy(double alpha, Tensor x) {
        requireOpen();
        requireSameShape(x, "axpy");
        HostTensor o = host(x);
        double[] out = new double[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = data[i] + alpha * o.data[i];
        }
        return make(out, shape.clone());
    }

    @Override
    public double dot(Tensor other) {
        requireOpen();
        requireSameShape(other, "dot");
        HostTensor o = host(other);
        double s = 0;
        for (int i = 0; i < data.length; i++) {
            s += data[i] * o.data[i];
        }
        return s;
    }

    @Override
    public double norm() {
        return Math.sqrt(dot(this));
    }

    @Override
    public Tensor rowDots(Tensor other) {
        requireOpen();
        requireSameShape(other, "rowDots");
        if (shape.length != 2) {
            throw new IllegalArgumentException("rowDots: not a matrix " + Arrays.toString(shape));
        }
        HostTensor o = host(other);
        int k = (int) shape[0];
        int p = (int) shape[1];
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            double s = 0;
            for (int j = 0; j < p; j++) {
                s += data[i * p + j] * o.data[i * p + j];
            }
            out[i] = s;
        }
        return make(out, k);
    }

    @Override
    public Tensor scaleRows(Tensor factors) {
        requireOpen();
        HostTensor f = host(factors);
        if (shape.length != 2 || f.shape.length != 1 || f.shape[0] != shape[0]) {
            throw new IllegalArgumentException("scaleRows: shapes " + Arrays.toString(shape) + " and "
                    + Arrays.toString(f.shape));
        }
        int k = (int) shape[0];
        int p = (int) shape[1];
        double[] out = new double[data.length];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < p; j++) {
                out[i * p + j] = f.data[i] * data[i * p + j];
            }
        }
        return make(out, shape.clone());
    }

    @Override
    public Tensor rows(long from, long to) {
        requireOpen();
        if (from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + shape[0]);
        }
        int w = (int) (numel() / shape[0]);
        long[] ns = shape.clone();
        ns[0] = to - from;
        return make(Arrays.copyOfRange(data, (int) from * w, (int) to * w), ns);
    }

    @Override
    public Tensor reshape(long... newShape) {
        requireOpen();
        long n = 1;
        for (long d : newShape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("reshape: " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return make(data.clone(), newShape.clone());
    }

    @Override
    public Tensor concat(Tensor other) {
        requireOpen();
        HostTensor o = host(other);
        if (shape.length != o.shape.length
                || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), Arrays.copyOfRange(o.shape, 1, shape.length))) {
            throw new IllegalArgumentException("concat: shapes " + Arrays.toString(shape) + " and "
                    + Arrays.toString(o.shape));
        }
        double[] out = Arrays.copyOf(data, data.length + o.data.length);
        System.arraycopy(o.data, 0, out, data.length, o.data.length);
        long[] ns = shape.clone();
        ns[0] += o.shape[0];
        return make(out, ns);
    }

    @Override
    public Tensor toType(DType target) {
        requireOpen();
        return scope.register(new HostTensor(scope, data.clone(), shape.clone(), target));
    }

    @Override
    public double[] toDoubleArray() {
        requireOpen();
        return data.clone();
    }

    @Override
    public float[] toFloatArray() {
        requireOpen();
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) data[i];
        }
        return out;
    }

    @Override
    public Tensor moveTo(TensorScope target) {
        requireOpen();
        if (!(target instanceof HostScope hs)) {
            throw new IllegalArgumentException("moveTo: not a host scope");
        }
        scope.release(this);
        hs.adopt(this);
        scope = hs;
        return this;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            scope.release(this);
        }
    }

    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(shape) + " " + dtype.jsonName();
    }
}
