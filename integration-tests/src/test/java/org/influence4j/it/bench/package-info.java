/**
 * Benchmark harnesses (mains, not tests): chunked influence throughput, sequential vs parallel,
 * and out-of-core streaming of a large influence matrix to disk. See {@link org.influence4j.it.bench.ChunkedBenchmark}.
 */
package org.influence4j.it.bench;
