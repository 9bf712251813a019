package org.influence4j.api.model;

import org.influence4j.api.DType;

/**
 * What {@link org.influence4j.api.Backend#loadModel} needs besides the file: the file's format and
 * what an opaque engine model does not say about itself — the width of its input
 * ({@code [n, inputDim]}), the per-sample loss applied to its output, and the dtype of its
 * parameters.
 *
 * @param format   the file format
 * @param inputDim features per sample, at least 1
 * @param loss     the per-sample loss applied to the model's output
 * @param dtype    the dtype of the parameters in the file
 */
public record NativeModelOptions(NativeModelFormat format, int inputDim, Loss loss, DType dtype) {

    /** @throws IllegalArgumentException naming the first missing or out-of-range component */
    public NativeModelOptions {
        if (format == null) {
            throw new IllegalArgumentException("format must not be null, e.g. NativeModelFormat.TORCHSCRIPT");
        }
        if (inputDim < 1) {
            throw new IllegalArgumentException("inputDim must be >= 1, got " + inputDim);
        }
        if (loss == null) {
            throw new IllegalArgumentException("loss must not be null, e.g. Loss.SOFTMAX_CROSS_ENTROPY");
        }
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must not be null (float32 or float64)");
        }
    }

    /** @return options for a TorchScript module taking {@code [n, inputDim]} inputs */
    public static NativeModelOptions torchScript(int inputDim, Loss loss, DType dtype) {
        return new NativeModelOptions(NativeModelFormat.TORCHSCRIPT, inputDim, loss, dtype);
    }
}
