package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.influence4j.api.DType;

/**
 * Conversions between influence4j's {@link DType}, DJL's {@link DataType} and host arrays. Only
 * float32 and float64 are influence4j tensor types; the {@code engine} arguments (e.g.
 * {@code "djl-pytorch"}) prefix the messages of the exceptions.
 */
public final class DjlDTypes {

    private DjlDTypes() {
    }

    /**
     * @return the DJL data type of {@code dtype}
     * @throws IllegalArgumentException if {@code dtype} is null
     */
    public static DataType toDjl(DType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: must not be null; use FLOAT32 or FLOAT64");
        }
        return dtype == DType.FLOAT64 ? DataType.FLOAT64 : DataType.FLOAT32;
    }

    /**
     * @return the influence4j dtype of a DJL data type
     * @throws IllegalStateException for types other than float32/float64 (never created by the DJL backends)
     */
    public static DType fromDjl(DataType type, String engine) {
        if (type == DataType.FLOAT64) {
            return DType.FLOAT64;
        }
        if (type == DataType.FLOAT32) {
            return DType.FLOAT32;
        }
        throw new IllegalStateException(engine + ": unexpected tensor data type " + type
                + "; influence4j tensors are float32 or float64");
    }

    /**
     * @return the value of a one-element float32/float64 array as a double
     * @throws IllegalStateException for other data types
     */
    public static double scalarValue(NDArray array, String engine) {
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray()[0];
        }
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray()[0];
        }
        throw new IllegalStateException(engine + ": unexpected scalar data type " + array.getDataType());
    }

    /** @return all elements of a float32/float64 array as doubles (float32 widened exactly) */
    public static double[] toDoubles(NDArray array) {
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
}
