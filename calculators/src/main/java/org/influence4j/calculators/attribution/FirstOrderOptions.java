package org.influence4j.calculators.attribution;

import java.nio.file.Path;
import org.influence4j.calculators.influence.InfluenceOptions;

/**
 * Settings of {@link FirstOrderInfluenceCalculator}.
 *
 * @param influence         λ (added to the mean-loss Hessian) and the chunk size of data passes
 * @param normalization     RelatIF normalisation of the influence vectors
 * @param secondOrderGroups whether group influence vectors include the second-order correction of
 *                          Basu, You &amp; Feizi (2020)
 * @param cache             where influence vectors of a training set are kept
 * @param cacheFile         the {@code .npy} file for {@link VectorCache#DISK}; must be null otherwise
 */
public record FirstOrderOptions(InfluenceOptions influence, RelatIf normalization, boolean secondOrderGroups,
                                VectorCache cache, Path cacheFile) {

    /** @throws IllegalArgumentException naming the argument that is missing or inconsistent */
    public FirstOrderOptions {
        if (influence == null) {
            throw new IllegalArgumentException("influence: must not be null; use InfluenceOptions.of(lambda)");
        }
        if (normalization == null) {
            throw new IllegalArgumentException("normalization: must not be null; use RelatIf.NONE");
        }
        if (cache == null) {
            throw new IllegalArgumentException("cache: must not be null; use VectorCache.NONE");
        }
        if (cache == VectorCache.DISK && cacheFile == null) {
            throw new IllegalArgumentException("cacheFile: required with VectorCache.DISK; give an .npy path");
        }
        if (cache != VectorCache.DISK && cacheFile != null) {
            throw new IllegalArgumentException("cacheFile: only used with VectorCache.DISK, got " + cache);
        }
    }

    /** @return λ, no normalisation, first-order groups, no cache */
    public static FirstOrderOptions of(double lambda) {
        return new FirstOrderOptions(InfluenceOptions.of(lambda), RelatIf.NONE, false, VectorCache.NONE, null);
    }

    /** @return a copy with another normalisation */
    public FirstOrderOptions withNormalization(RelatIf value) {
        return new FirstOrderOptions(influence, value, secondOrderGroups, cache, cacheFile);
    }

    /** @return a copy with the second-order group correction switched on or off */
    public FirstOrderOptions withSecondOrderGroups(boolean value) {
        return new FirstOrderOptions(influence, normalization, value, cache, cacheFile);
    }

    /** @return a copy keeping influence vectors in memory */
    public FirstOrderOptions withMemoryCache() {
        return new FirstOrderOptions(influence, normalization, secondOrderGroups, VectorCache.MEMORY, null);
    }

    /** @return a copy keeping influence vectors in memory and in {@code file} */
    public FirstOrderOptions withDiskCache(Path file) {
        return new FirstOrderOptions(influence, normalization, secondOrderGroups, VectorCache.DISK, file);
    }
}
