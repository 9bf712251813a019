package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import org.influence4j.api.Tensor;
import org.influence4j.backend.djl.DjlTensor;

/**
 * A {@link Tensor} over a DJL {@link NDArray} of the TensorFlow engine (an eager TensorFlow tensor
 * handle; every operation runs as one eager TF op). Results of operations belong to this tensor's
 * {@link #scope()} (the receiver's {@code NDManager}); arguments of the other dtype are converted to
 * the receiver's dtype; arguments must be {@code TfTensor}s (any scope of this backend). Shape errors
 * throw {@link IllegalArgumentException} naming both shapes. The operations are those of
 * {@link DjlTensor}; the TensorFlow specifics are the scope's hooks ({@link TfTensorScope}).
 *
 * <p>TensorFlow copies host data into memory it owns and reference-counts its buffers, so results of
 * {@link #transpose()}, {@link #rows}, {@link #reshape} stay valid when the receiver is closed.
 */
public final class TfTensor extends DjlTensor<TfTensor, TfTensorScope> {

    TfTensor(NDArray array, TfTensorScope scope) {
        super(array, scope);
    }

    /**
     * @return {@code t} as an open {@code TfTensor}
     * @throws IllegalArgumentException if it is null or belongs to another backend
     * @throws IllegalStateException if it was closed
     */
    static TfTensor require(Tensor t, String argument) {
        return require(TfTensor.class, TfBackendProvider.NAME, t, argument);
    }
}
