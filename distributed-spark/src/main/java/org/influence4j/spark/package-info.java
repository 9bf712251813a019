/**
 * The chunked influence computation of {@link org.influence4j.calculators.chunked} on Apache Spark
 * (the JVM's analogue of pyDVL's {@code DaskInfluenceCalculator}): the same chunk tasks run on
 * executors, each executor builds its backend and model locally from a broadcast description, and
 * results go to the same sinks (Zarr chunks written by the executors themselves).
 */
package org.influence4j.spark;
