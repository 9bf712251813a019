package org.influence4j.api.data;

import java.util.Arrays;
import org.influence4j.api.DType;

/**
 * A dense array on the Java heap as stored in a file: row-major values, shape, and the element
 * type used on disk. The {@code data} array is not copied; do not modify it after construction.
 *
 * @param data  row-major values
 * @param shape dimensions; their product equals {@code data.length}
 * @param dtype element type on disk
 */
public record HostArray(double[] data, long[] shape, DType dtype) {

    public HostArray {
        if (data == null || shape == null || dtype == null) {
            throw new IllegalArgumentException("HostArray: data, shape and dtype must not be null");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("HostArray: negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("HostArray: shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but data has " + data.length);
        }
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return "HostArray" + Arrays.toString(shape) + " " + dtype.jsonName();
    }
}
