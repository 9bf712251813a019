package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import org.influence4j.api.Tensor;
import org.influence4j.backend.djl.DjlTensor;

/**
 * A {@link Tensor} over a DJL PyTorch {@link NDArray}. Results of operations belong to this
 * tensor's {@link #scope()} (the receiver's {@code NDManager}); arguments of the other dtype are
 * converted to the receiver's dtype; arguments must be {@code PtTensor}s (any scope of this
 * backend). Shape errors throw {@link IllegalArgumentException} naming both shapes. The operations
 * are those of {@link DjlTensor}; the PyTorch specifics are the scope's hooks
 * ({@link PtTensorScope}).
 *
 * <p>Results of {@link #transpose()}, {@link #rows}, {@link #reshape} may share storage with the
 * receiver (libtorch views). No operation modifies its receiver or arguments, so sharing is never
 * visible; closing either one does not invalidate the other, because every tensor of this backend
 * lives in libtorch-owned, reference-counted memory (never in a Java-owned buffer).
 */
public final class PtTensor extends DjlTensor<PtTensor, PtTensorScope> {

    PtTensor(NDArray array, PtTensorScope scope) {
        super(array, scope);
    }

    /**
     * @return {@code t} as an open {@code PtTensor}
     * @throws IllegalArgumentException if it is null or belongs to another backend
     * @throws IllegalStateException if it was closed
     */
    static PtTensor require(Tensor t, String argument) {
        return require(PtTensor.class, PtBackendProvider.NAME, t, argument);
    }
}
