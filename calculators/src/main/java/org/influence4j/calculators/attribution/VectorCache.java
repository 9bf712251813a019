package org.influence4j.calculators.attribution;

/** Where {@link FirstOrderInfluenceCalculator} keeps the influence vectors of a training set (influenciae's {@code CACHE}). */
public enum VectorCache {
    /** Recompute for every call. */
    NONE,
    /** Keep the last training set's n×p vectors on the Java heap. */
    MEMORY,
    /** Keep them in memory and in an {@code .npy} file (read if present, written atomically otherwise). */
    DISK
}
