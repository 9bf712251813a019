package org.influence4j.backend.nd4j;

import org.influence4j.api.data.HostArray;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Creation and host copies of ND4J arrays (in whatever workspace is active when called). */
final class Nd4jArrays {

    private Nd4jArrays() {
    }

    /** @return a new C-order array of {@code type} holding {@code data} with {@code shape} */
    static INDArray create(double[] data, long[] shape, DataType type) {
        if (data.length == 0) {
            return Nd4j.create(type, shape);
        }
        if (shape.length == 0) {
            return Nd4j.scalar(type, data[0]);
        }
        if (type == DataType.DOUBLE) {
            return Nd4j.create(data, shape, DataType.DOUBLE);
        }
        float[] f = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            f[i] = (float) data[i];
        }
        return Nd4j.create(f, shape, DataType.FLOAT);
    }

    /**
     * @return a new array holding {@code data} (any storage; its own shape is ignored; float32 storage
     *     goes into a FLOAT array without a detour through doubles) with {@code shape} and {@code type}
     */
    static INDArray create(HostArray data, long[] shape, DataType type) {
        if (type == DataType.FLOAT && data.storage() == HostArray.Storage.FLOAT32 && data.size() > 0
                && shape.length > 0) {
            return Nd4j.create(data.floats(), shape, DataType.FLOAT);
        }
        return create(data.doubles(), shape, type);
    }

    /**
     * @return a new array that owns its buffer, holding the elements of {@code a} in row-major order
     *     with {@code shape} (ND4J's own reshape returns a view that shares the buffer)
     */
    static INDArray reshapedCopy(INDArray a, long[] shape) {
        INDArray out = Nd4j.create(a.dataType(), shape, 'c');
        if (a.length() > 0) {
            out.assign(a.reshape('c', shape));
        }
        return out;
    }

    /** Frees {@code a} now if it owns its buffer (views and workspace arrays are left alone). */
    static void free(INDArray a) {
        if (a != null && a.closeable()) {
            a.close();
        }
    }

    /** @return all elements of {@code a} in row-major order as doubles */
    static double[] toDoubles(INDArray a) {
        if (a.length() == 0) {
            return new double[0];
        }
        INDArray c = contiguous(a);
        try {
            return c.data().asDouble();
        } finally {
            if (c != a) {
                c.close();
            }
        }
    }

    /** @return all elements of {@code a} in row-major order as floats */
    static float[] toFloats(INDArray a) {
        if (a.length() == 0) {
            return new float[0];
        }
        INDArray c = contiguous(a);
        try {
            return c.data().asFloat();
        } finally {
            if (c != a) {
                c.close();
            }
        }
    }

    /** @return {@code a} itself if its buffer is exactly its C-order elements, else a C-order copy */
    private static INDArray contiguous(INDArray a) {
        boolean exact = !a.isView() && a.ordering() == 'c' && a.data().length() == a.length()
                && a.offset() == 0;
        return exact ? a : a.dup('c');
    }
}
