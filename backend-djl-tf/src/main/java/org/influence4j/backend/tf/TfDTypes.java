package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.api.DType;

/** Conversions between influence4j's {@link DType}, DJL's {@link DataType} and host arrays. */
final class TfDTypes {

    private TfDTypes() {
    }

    /** @return the DJL data type of {@code dtype} */
    static DataType toDjl(DType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: must not be null; use FLOAT32 or FLOAT64");
        }
        return dtype == DType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
    }

    /**
     * @return the influence4j dtype of a DJL data type
     * @throws IllegalStateException for types other than float32/float64 (never created by this backend)
     */
    static DType fromDjl(DataType type) {
        if (type == DataType.FLOAT64) {
            return DType.FLOAT64;
        }
        if (type == DataType.FLOAT32) {
            return DType.FLOAT32;
        }
        throw new IllegalStateException("djl-tf: unexpected tensor data type " + type
                + "; influence4j tensors are float32 or float64");
    }

    /** @return a new array in {@code m} holding {@code data} converted to {@code type} (TensorFlow copies it) */
    static NDArray create(NDManager m, double[] data, Shape shape, DataType type) {
        if (type == DataType.FLOAT64) {
            return m.create(data, shape);
        }
        return m.create(toFloats(data), shape);
    }

    /** @return a 0-dimensional array holding {@code value} in {@code type} */
    static NDArray scalar(NDManager m, double value, DataType type) {
        return type == DataType.FLOAT64 ? m.create(value) : m.create((float) value);
    }

    /** @return the value of a one-element float32/float64 array as a double */
    static double scalarValue(NDArray array) {
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray()[0];
        }
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray()[0];
        }
        throw new IllegalStateException("djl-tf: unexpected scalar data type " + array.getDataType());
    }

    /** @return all elements of a float32/float64 array as doubles */
    static double[] toDoubles(NDArray array) {
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray();
        }
        float[] f = array.toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** @return {@code data} narrowed to float */
    static float[] toFloats(double[] data) {
        float[] out = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = (float) data[i];
        }
        return out;
    }
}
