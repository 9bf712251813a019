package org.influence4j.api.model;

import java.util.Arrays;
import org.influence4j.api.DType;

/**
 * What {@link org.influence4j.api.Backend#loadModel} needs besides the file: the file's format and
 * what an opaque engine model does not say about itself — the shape and kind of one sample's input
 * (the model is called on {@code [n, *inputShape]}: float features such as {@code [C, H, W]} images
 * or {@code [d]} rows, or int64 token ids such as {@code [T]}), the per-sample loss applied to its
 * output, and the dtype of its parameters. A {@link org.influence4j.api.data.Batch} row holds one
 * sample's input flattened row-major (ids as exact integer values), as
 * {@code org.influence4j.io.data.ArrayDataSource} (module io) reads it.
 *
 * @param format     the file format
 * @param inputShape per-sample input shape (batch axis excluded), every dimension at least 1
 * @param intInput   true when the input holds int64 ids (e.g. for an {@code nn.Embedding}), false
 *                   for float features in the parameters' dtype
 * @param loss       the per-sample loss applied to the model's output
 * @param dtype      the dtype of the parameters in the file
 */
public record NativeModelOptions(NativeModelFormat format, long[] inputShape, boolean intInput, Loss loss,
                                 DType dtype) {

    /** @throws IllegalArgumentException naming the first missing or out-of-range component */
    public NativeModelOptions {
        if (format == null) {
            throw new IllegalArgumentException("format must not be null, e.g. NativeModelFormat.TORCHSCRIPT");
        }
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("inputShape must name at least one dimension, e.g. [784] or [1, 28, 28]");
        }
        long values = 1;
        for (long d : inputShape) {
            if (d < 1) {
                throw new IllegalArgumentException("inputShape: every dimension must be >= 1, got "
                        + Arrays.toString(inputShape));
            }
            values = Math.multiplyExact(values, d);
        }
        if (values > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("inputShape " + Arrays.toString(inputShape) + " holds " + values
                    + " values per sample; at most " + Integer.MAX_VALUE);
        }
        if (loss == null) {
            throw new IllegalArgumentException("loss must not be null, e.g. Loss.SOFTMAX_CROSS_ENTROPY");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must not be null (float32 or float64)");
        }
        inputShape = inputShape.clone();
    }

    /** @return options for a TorchScript module taking flat float inputs {@code [n, inputDim]} */
    public static NativeModelOptions torchScript(int inputDim, Loss loss, DType dtype) {
        return torchScript(new long[] {inputDim}, false, loss, dtype);
    }

    /**
     * @param inputShape per-sample input shape, e.g. {@code [1, 28, 28]} or {@code [T]}
     * @param intInput   true for int64 ids
     * @return options for a TorchScript module taking {@code [n, *inputShape]} inputs
     */
    public static NativeModelOptions torchScript(long[] inputShape, boolean intInput, Loss loss, DType dtype) {
        return new NativeModelOptions(NativeModelFormat.TORCHSCRIPT, inputShape, intInput, loss, dtype);
    }

    @Override
    public long[] inputShape() {
        return inputShape.clone();
    }

    /** @return values per sample, the product of {@link #inputShape()} */
    public int inputDim() {
        long values = 1;
        for (long d : inputShape) {
            values *= d;
        }
        return (int) values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NativeModelOptions other && format == other.format
                && Arrays.equals(inputShape, other.inputShape) && intInput == other.intInput && loss == other.loss
                && dtype == other.dtype;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputShape) * 31 + java.util.Objects.hash(format, intInput, loss, dtype);
    }

    @Override
    public String toString() {
        return "NativeModelOptions[format=" + format + ", inputShape=" + Arrays.toString(inputShape)
                + (intInput ? " int64" : "") + ", loss=" + loss + ", dtype=" + dtype + "]";
    }
}
