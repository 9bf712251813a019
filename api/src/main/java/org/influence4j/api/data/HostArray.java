package org.influence4j.api.data;

import java.util.Arrays;
import org.influence4j.api.DType;

/**
 * A dense row-major array on the Java heap, held in its own element type: float32 values stay
 * {@code float[]} (4 bytes each), float64 values {@code double[]}, integers (token ids, class
 * indices) {@code long[]}. Files and data sources produce it ({@code org.influence4j.io.Npy},
 * safetensors, IDX); backends upload it without a detour through doubles
 * ({@link Storage#FLOAT32} data into a float32 tensor is copied once, not converted twice).
 *
 * <p>The storage array is not copied; do not modify it after construction. The typed accessors
 * ({@link #floats()}, {@link #doubles()}, {@link #longs()}) return it as it is when the storage has
 * their type and a converted copy otherwise; {@link #data()} is {@link #doubles()}.
 *
 * <p>Equality is identity, as for the arrays it holds.
 */
public final class HostArray implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** The element type of the Java array that holds the values. */
    public enum Storage {
        /** {@code float[]}. */
        FLOAT32,
        /** {@code double[]}. */
        FLOAT64,
        /** {@code long[]}: integers such as token ids and class indices. */
        INT64
    }

    private final Object values;
    private final Storage storage;
    private final long[] shape;
    private final DType dtype;

    /**
     * float64 storage of values whose file type is {@code dtype}.
     *
     * @param data  row-major values
     * @param shape dimensions; their product equals {@code data.length}
     * @param dtype the element type on disk: {@link #dtype()}
     */
    public HostArray(double[] data, long[] shape, DType dtype) {
        this(data, data == null ? 0 : data.length, Storage.FLOAT64, shape, dtype);
    }

    private HostArray(Object values, int length, Storage storage, long[] shape, DType dtype) {
        if (values == null || shape == null || dtype == null) {
            throw new IllegalArgumentException("HostArray: data, shape and dtype must not be null");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("HostArray: negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != length) {
            throw new IllegalArgumentException("HostArray: shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but data has " + length);
        }
        this.values = values;
        this.storage = storage;
        this.shape = shape.clone();
        this.dtype = dtype;
    }

    /** @return float32 storage of {@code data}, file type {@link DType#FLOAT32} */
    public static HostArray ofFloats(float[] data, long... shape) {
        return new HostArray(data, data == null ? 0 : data.length, Storage.FLOAT32, shape, DType.FLOAT32);
    }

    /**
     * @param dtype the float type of the same width as the integers on disk (int32 → FLOAT32, int64 →
     *              FLOAT64): {@link #dtype()}
     * @return int64 storage of {@code data}
     */
    public static HostArray ofLongs(long[] data, DType dtype, long... shape) {
        return new HostArray(data, data == null ? 0 : data.length, Storage.INT64, shape, dtype);
    }

    /** @return the element type of the array that holds the values */
    public Storage storage() {
        return storage;
    }

    /**
     * @return the element type on disk for float storage; for integers, the float type of the same
     *     width (FLOAT32 for int32, FLOAT64 for int64)
     */
    public DType dtype() {
        return dtype;
    }

    /** @return the dimensions (a copy) */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of elements */
    public int size() {
        return switch (storage) {
            case FLOAT32 -> ((float[]) values).length;
            case FLOAT64 -> ((double[]) values).length;
            case INT64 -> ((long[]) values).length;
        };
    }

    /** @return the values as doubles: the storage itself for {@link Storage#FLOAT64}, else a converted copy */
    public double[] data() {
        return doubles();
    }

    /** @return the values as doubles: the storage itself for {@link Storage#FLOAT64}, else a converted copy */
    public double[] doubles() {
        return switch (storage) {
            case FLOAT64 -> (double[]) values;
            case FLOAT32 -> {
                float[] f = (float[]) values;
                double[] out = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    out[i] = f[i];
                }
                yield out;
            }
            case INT64 -> Arrays.stream((long[]) values).asDoubleStream().toArray();
        };
    }

    /**
     * @return the values as floats: the storage itself for {@link Storage#FLOAT32}, else a copy rounded
     *     to float
     */
    public float[] floats() {
        if (storage == Storage.FLOAT32) {
            return (float[]) values;
        }
        float[] out = new float[size()];
        if (storage == Storage.FLOAT64) {
            double[] d = (double[]) values;
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) d[i];
            }
        } else {
            long[] l = (long[]) values;
            for (int i = 0; i < out.length; i++) {
                out[i] = l[i];
            }
        }
        return out;
    }

    /**
     * @return the values as integers: the storage itself for {@link Storage#INT64}, else a copy
     * @throws IllegalStateException if a float value is not an integer (naming its flat index)
     */
    public long[] longs() {
        if (storage == Storage.INT64) {
            return (long[]) values;
        }
        int n = size();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            double v = storage == Storage.FLOAT64 ? ((double[]) values)[i] : ((float[]) values)[i];
            out[i] = (long) v;
            if (out[i] != v) {
                throw new IllegalStateException("HostArray: element " + i + " is " + v + ", not an integer");
            }
        }
        return out;
    }

    /**
     * @return elements {@code [from, to)} of the flat values in the same storage (a copy)
     */
    public HostArray copyOfRange(int from, int to, long... newShape) {
        return switch (storage) {
            case FLOAT32 -> new HostArray(Arrays.copyOfRange((float[]) values, from, to), to - from, storage, newShape,
                    dtype);
            case FLOAT64 -> new HostArray(Arrays.copyOfRange((double[]) values, from, to), to - from, storage,
                    newShape, dtype);
            case INT64 -> new HostArray(Arrays.copyOfRange((long[]) values, from, to), to - from, storage, newShape,
                    dtype);
        };
    }

    /** @return the same values with another shape of the same size (the storage is shared) */
    public HostArray reshape(long... newShape) {
        return new HostArray(values, size(), storage, newShape, dtype);
    }

    /**
     * @param parts arrays of the same storage, in order
     * @param shape the shape of the result
     * @return their flat values one after another, in their storage
     * @throws IllegalArgumentException if the storages differ
     */
    public static HostArray concat(java.util.List<HostArray> parts, long... shape) {
        Storage s = parts.get(0).storage;
        int total = 0;
        for (HostArray p : parts) {
            if (p.storage != s) {
                throw new IllegalArgumentException("HostArray: cannot concatenate " + s + " and " + p.storage
                        + " storage; convert one first");
            }
            total = Math.addExact(total, p.size());
        }
        Object out = switch (s) {
            case FLOAT32 -> new float[total];
            case FLOAT64 -> new double[total];
            case INT64 -> new long[total];
        };
        int at = 0;
        for (HostArray p : parts) {
            System.arraycopy(p.values, 0, out, at, p.size());
            at += p.size();
        }
        return new HostArray(out, total, s, shape, parts.get(0).dtype);
    }

    /** @return this array {@code copies} times along dimension 0 (a copy in the same storage) */
    public HostArray repeat(int copies) {
        long[] newShape = shape.clone();
        newShape[0] = Math.multiplyExact(newShape[0], copies);
        return concat(java.util.Collections.nCopies(copies, this), newShape);
    }

    /**
     * @param rows     indices of rows of {@code rowWidth} elements, in the order wanted
     * @param rowWidth elements per row
     * @param shape    the shape of the result
     * @return those rows in the same storage (a copy)
     */
    public HostArray selectRows(int[] rows, int rowWidth, long... shape) {
        Object out = switch (storage) {
            case FLOAT32 -> new float[rows.length * rowWidth];
            case FLOAT64 -> new double[rows.length * rowWidth];
            case INT64 -> new long[rows.length * rowWidth];
        };
        for (int k = 0; k < rows.length; k++) {
            System.arraycopy(values, rows[k] * rowWidth, out, k * rowWidth, rowWidth);
        }
        return new HostArray(out, rows.length * rowWidth, storage, shape, dtype);
    }

    /** @return the flat index of the first NaN or infinite element, or -1 */
    public int firstNonFinite() {
        switch (storage) {
            case FLOAT32 -> {
                float[] f = (float[]) values;
                for (int i = 0; i < f.length; i++) {
                    if (!Float.isFinite(f[i])) {
                        return i;
                    }
                }
            }
            case FLOAT64 -> {
                double[] d = (double[]) values;
                for (int i = 0; i < d.length; i++) {
                    if (!Double.isFinite(d[i])) {
                        return i;
                    }
                }
            }
            case INT64 -> {
                // integers are always finite
            }
        }
        return -1;
    }

    /** @return element {@code i} of the flat values as a double */
    public double get(int i) {
        return switch (storage) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case INT64 -> ((long[]) values)[i];
        };
    }

    @Override
    public String toString() {
        return "HostArray" + Arrays.toString(shape) + " " + dtype.jsonName()
                + (storage == Storage.INT64 ? " (int64 storage)" : "");
    }
}
