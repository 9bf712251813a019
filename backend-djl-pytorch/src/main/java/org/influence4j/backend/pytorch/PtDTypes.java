package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.influence4j.api.DType;

/** Conversions between influence4j's {@link DType} and DJL's {@link DataType}. */
final class PtDTypes {

    private PtDTypes() {
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
        throw new IllegalStateException("djl-pytorch: unexpected tensor data type " + type
                + "; influence4j tensors are float32 or float64");
    }

    /** @return the value of a one-element float32/float64 array as a double */
    static double scalar(NDArray array) {
        if (array.getDataType() == DataType.FLOAT64) {
            return array.toDoubleArray()[0];
        }
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray()[0];
        }
        throw new IllegalStateException("djl-pytorch: unexpected scalar data type " + array.getDataType());
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
