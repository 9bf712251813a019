package org.influence4j.api.internal;

import java.util.function.BiFunction;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;

/**
 * How many training samples' per-sample gradients {@code [chunk, p]} a pass holds at once: the
 * chunk asked for, lowered for wide models so that their gradients take at most
 * {@link #GRADIENT_CHUNK_BYTES}; and the mean of products made slice by slice
 * ({@link #meanOverSlices}).
 */
public final class GradientChunks {

    /** At most this many bytes of per-sample gradients per chunk. */
    public static final long GRADIENT_CHUNK_BYTES = 256L << 20;

    private GradientChunks() {
    }

    /**
     * @return {@code chunk}, lowered where its per-sample gradients would take more than
     *     {@link #GRADIENT_CHUNK_BYTES}: an embedding model with a 30,000 × 64 table has 7.7 MB of
     *     float32 gradient per sample, so 512 samples took 9 GB of peak RSS in influences by EK-FAC or
     *     CG; the digits MLP and the Fashion-MNIST CNN keep any chunk up to 5,000
     */
    public static int bounded(TwiceDifferentiable model, int chunk) {
        long perSample = (long) model.numParameters() * model.spec().dtype().bytes();
        return (int) Math.max(1, Math.min(chunk, GRADIENT_CHUNK_BYTES / perSample));
    }

    /**
     * {@code (1/n) Σ_s product(s)} over a batch's consecutive slices s of at most {@code slice}
     * samples (the whole batch when it holds no more), added in slice order; each slice's product is
     * freed once added, so that at most two {@code [k, p]} sums and one product are held at once.
     *
     * @param product a slice's product, made in the scope it is given
     * @return the mean, owned by {@code scope}
     */
    public static Tensor meanOverSlices(Batch batch, int slice, BiFunction<Batch, TensorScope, Tensor> product,
                                        TensorScope scope) {
        int n = batch.size();
        Tensor sum = null;
        try (TensorScope work = scope.newChild()) {
            for (int from = 0; from < n; from += slice) {
                Batch part = slice >= n ? batch : batch.slice(from, Math.min(n, from + slice));
                try (Tensor term = product.apply(part, work)) {
                    Tensor next = sum == null ? term.scale(1.0 / n) : sum.axpy(1.0 / n, term);
                    if (sum != null) {
                        sum.close();
                    }
                    sum = next;
                }
            }
            return sum.moveTo(scope);
        }
    }
}
