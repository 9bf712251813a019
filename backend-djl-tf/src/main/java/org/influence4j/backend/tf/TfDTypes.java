package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;
import org.influence4j.backend.djl.DjlDTypes;

/**
 * Creation of TensorFlow arrays from host values (TensorFlow copies the data into memory it owns);
 * the dtype conversions themselves are {@link DjlDTypes}.
 */
final class TfDTypes {

    private TfDTypes() {
    }

    /** @return a new array in {@code m} holding {@code data} converted to {@code type} (TensorFlow copies it) */
    static NDArray create(NDManager m, double[] data, Shape shape, DataType type) {
        return create(m, new HostArray(data, new long[] {data.length}, DType.FLOAT64), shape, type);
    }

    /** @return an array holding {@code data} (any storage; float32 storage is not converted) in {@code type} */
    static NDArray create(NDManager m, HostArray data, Shape shape, DataType type) {
        return type == DataType.FLOAT64 ? m.create(data.doubles(), shape) : m.create(data.floats(), shape);
    }

    /** @return a 0-dimensional array holding {@code value} in {@code type} */
    static NDArray scalar(NDManager m, double value, DataType type) {
        return type == DataType.FLOAT64 ? m.create(value) : m.create((float) value);
    }
}
