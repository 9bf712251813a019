/**
 * The chunked influence computation of {@link org.influence4j.calculators.chunked} on Apache Spark
 * (the JVM's analogue of pyDVL's {@code DaskInfluenceCalculator}): the same chunk tasks run on
 * executors, each executor builds its backend and model locally from a broadcast description, and
 * results go to the same sinks (Zarr chunks written by the executors themselves). Training and test
 * data come from files or from a Spark {@code Dataset<Row>} ({@link org.influence4j.spark.SparkData}).
 * {@link org.influence4j.spark.SparkInfluenceJob} is the {@code spark-submit} entry point of the job jar
 * ({@code influence4j-distributed-spark-<version>-job.jar}); the executors load their backend from a
 * plugin folder shipped with {@code --archives} ({@code influence4j-spark-backends-<version>.zip}).
 */
package org.influence4j.spark;
