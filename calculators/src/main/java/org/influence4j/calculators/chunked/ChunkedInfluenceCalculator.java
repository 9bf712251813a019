package org.influence4j.calculators.chunked;

import org.influence4j.api.influence.InfluenceMode;

/**
 * pyDVL's chunked influence operations, each returning a {@link LazyChunkSequence} that computes
 * nothing until it is pulled into memory or written to a sink. Implementations differ only in
 * how blocks are run ({@link #executor()}): sequentially, on threads, on Spark.
 *
 * <p>Shapes and sign follow {@link org.influence4j.api.influence.InfluenceFunctionModel}: factors
 * {@code [m, p]}; influences {@code [m, n]} (UP) or {@code [m, n, numFeatures]} (PERTURBATION),
 * positive for proponents.
 */
public interface ChunkedInfluenceCalculator {

    /** @return p, the number of model parameters */
    int numParameters();

    /** @return how this calculator runs blocks */
    ChunkExecutor executor();

    /**
     * {@code H⁻¹∇θℓ(x, y)} for every sample, one block per chunk of {@code data}.
     *
     * @return a lazy {@code [m, p]} result
     */
    default LazyChunkSequence influenceFactors(ChunkedData data) {
        return new LazyChunkSequence(ChunkComputation.factors(data, numParameters()), executor());
    }

    /**
     * Influences of {@code train} on {@code test}, block (i, j) from test chunk i and training chunk j.
     *
     * @param train training samples, or {@code null} for {@code test} itself
     * @return a lazy {@code [m, n]} (UP) or {@code [m, n, numFeatures]} (PERTURBATION) result
     */
    default LazyChunkSequence influences(ChunkedData test, ChunkedData train, InfluenceMode mode) {
        return new LazyChunkSequence(ChunkComputation.influences(test, train, mode), executor());
    }

    /** UP-mode {@link #influences(ChunkedData, ChunkedData, InfluenceMode)}. */
    default LazyChunkSequence influences(ChunkedData test, ChunkedData train) {
        return influences(test, train, InfluenceMode.UP);
    }

    /**
     * Influences from precomputed factors {@code [m, p]} (chunked along rows only), block (i, j) from
     * factor chunk i and training chunk j.
     */
    default LazyChunkSequence influencesFromFactors(ChunkedArray factors, ChunkedData train, InfluenceMode mode) {
        return new LazyChunkSequence(ChunkComputation.fromFactors(factors, train, mode, numParameters()),
                executor());
    }
}
