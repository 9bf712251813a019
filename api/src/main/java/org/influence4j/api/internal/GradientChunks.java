package org.influence4j.api.internal;

import org.influence4j.api.TwiceDifferentiable;

/**
 * How many training samples' per-sample gradients {@code [chunk, p]} a pass holds at once: the
 * chunk asked for, lowered for wide models so that their gradients take at most
 * {@link #GRADIENT_CHUNK_BYTES}.
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
}
