package org.influence4j.backend.nd4j;

import org.influence4j.api.DType;
import org.nd4j.linalg.api.buffer.DataType;

/** Conversions between influence4j's {@link DType} and ND4J's {@link DataType}. */
final class Nd4jDTypes {

    private Nd4jDTypes() {
    }

    /** @return the ND4J data type of {@code dtype} */
    static DataType toNd4j(DType dtype) {
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: must not be null; use FLOAT32 or FLOAT64");
        }
        return dtype == DType.FLOAT64 ? DataType.DOUBLE : DataType.FLOAT;
    }

    /**
     * @return the influence4j dtype of an ND4J data type
     * @throws IllegalArgumentException if it is neither FLOAT nor DOUBLE
     */
    static DType fromNd4j(DataType type) {
        return switch (type) {
            case DOUBLE -> DType.FLOAT64;
            case FLOAT -> DType.FLOAT32;
            default -> throw new IllegalArgumentException("nd4j: data type " + type
                    + " is not supported; influence4j tensors are FLOAT (float32) or DOUBLE (float64)");
        };
    }
}
