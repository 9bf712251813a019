package org.influence4j.calculators.inversion;

/**
 * Settings of the {@link NystroemSolver} (pyDVL's {@code NystroemSketchInfluence}).
 *
 * @param rank rank r of the sketch, ≥ 1 (clipped to p; pyDVL has no default, here 10)
 * @param seed seed of the Gaussian test matrix (default 0)
 */
public record NystroemOptions(int rank, long seed) {

    /** Default rank. */
    public static final int DEFAULT_RANK = 10;

    /** @throws IllegalArgumentException naming the argument out of range */
    public NystroemOptions {
        if (rank < 1) {
            throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
        }
    }

    /** @return rank 10, seed 0 */
    public static NystroemOptions defaults() {
        return new NystroemOptions(DEFAULT_RANK, 0L);
    }
}
