package org.influence4j.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import onnx.Onnx;

/**
 * Constant tensors of an ONNX graph (initializers and {@code Constant} nodes) as doubles.
 *
 * @param name  the ONNX value name (for initializers the PyTorch parameter name, e.g. {@code 0.weight})
 * @param dims  the shape
 * @param data  row-major values
 */
record OnnxTensors(String name, long[] dims, double[] data) {

    private static final int FLOAT = 1;
    private static final int INT32 = 6;
    private static final int INT64 = 7;
    private static final int DOUBLE = 11;

    /** @return the number of elements */
    int size() {
        return data.length;
    }

    /** @return the only value of a one-element tensor */
    double scalar() {
        if (data.length != 1) {
            throw new IllegalArgumentException("constant '" + name + "' has " + data.length + " values, not one");
        }
        return data[0];
    }

    /** @return the values of a 2-D tensor {@code [r, c]} transposed to {@code [c, r]} */
    double[] transposed() {
        int r = (int) dims[0];
        int c = (int) dims[1];
        double[] out = new double[data.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[j * r + i] = data[i * c + j];
            }
        }
        return out;
    }

    /**
     * @throws IllegalArgumentException naming the tensor if its data type is not float, double or
     *     int32/int64, its data are external, or the element count does not match its shape
     */
    static OnnxTensors of(Onnx.TensorProto t) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + t.getName() + "' has a negative dimension");
            }
            count = Math.multiplyExact(count, d);
        }
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' has " + count + " values, too many");
        }
        if (t.getExternalDataCount() > 0) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' keeps its data in an external file;"
                    + " export the model in one file (torch.onnx.export without external data)");
        }
        double[] data = new double[(int) count];
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        boolean hasRaw = raw.remaining() > 0;
        int width = switch (t.getDataType()) {
            case FLOAT, INT32 -> 4;
            case INT64, DOUBLE -> 8;
            default -> throw new IllegalArgumentException("tensor '" + t.getName() + "' has ONNX data type "
                    + t.getDataType() + "; only float, double, int32 and int64 are read");
        };
        if (hasRaw && raw.remaining() != count * width) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' holds " + raw.remaining()
                    + " bytes but its shape needs " + count * width);
        }
        List<? extends Number> list = switch (t.getDataType()) {
            case FLOAT -> t.getFloatDataList();
            case INT32 -> t.getInt32DataList();
            case INT64 -> t.getInt64DataList();
            default -> t.getDoubleDataList();
        };
        if (!hasRaw && list.size() != count) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "' holds " + list.size()
                    + " values but its shape needs " + count);
        }
        for (int i = 0; i < count; i++) {
            if (!hasRaw) {
                data[i] = list.get(i).doubleValue();
            } else {
                data[i] = switch (t.getDataType()) {
                    case FLOAT -> raw.getFloat(i * 4);
                    case INT32 -> raw.getInt(i * 4);
                    case INT64 -> raw.getLong(i * 8);
                    default -> raw.getDouble(i * 8);
                };
            }
        }
        return new OnnxTensors(t.getName(), dims, data);
    }
}
