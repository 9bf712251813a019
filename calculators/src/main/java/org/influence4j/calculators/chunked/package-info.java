/**
 * Chunked influence computation (pyDVL's {@code SequentialInfluenceCalculator} and
 * {@code DaskInfluenceCalculator} for the JVM): the result matrix is cut into blocks
 * (test chunk i × training chunk j), computed lazily block by block, sequentially or on several
 * threads, and pulled into memory or streamed to a {@link org.influence4j.calculators.chunked.ChunkSink}
 * (in memory, Zarr v2 on disk with atomic, resumable chunk writes, streaming top-k).
 *
 * <p>Shapes follow pyDVL: influence factors {@code [m, p]}; influences {@code [m, n]} in UP mode and
 * {@code [m, n, numFeatures]} in PERTURBATION mode; block (i, j) holds rows of test chunk i and
 * columns of training chunk j. Only the sample (batch) dimension is ever chunked.
 */
package org.influence4j.calculators.chunked;
