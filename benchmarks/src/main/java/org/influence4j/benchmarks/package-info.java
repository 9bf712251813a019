/**
 * Benchmarks of influence4j on one backend ({@code -Dinfluence4j.bench.backend}, default: the best
 * available): JMH suites for the stages of an influence query
 * ({@link org.influence4j.benchmarks.GradientBenchmarks per-sample gradients},
 * {@link org.influence4j.benchmarks.HvpBenchmarks Hessian-vector products},
 * {@link org.influence4j.benchmarks.GemmBenchmarks the influence GEMM stage},
 * {@link org.influence4j.benchmarks.SolverBenchmarks the inverse-HVP solvers}), of a CNN
 * ({@link org.influence4j.benchmarks.CnnBenchmarks}) and of TracIn
 * ({@link org.influence4j.benchmarks.TracInBenchmarks}), and
 * {@link org.influence4j.benchmarks.BenchmarkHarness}, which prints each stage's throughput and its
 * ratio to the machine's measured float32 GEMM rate so that results compare across machines.
 * Not run by the tests; CI only compiles this module.
 */
package org.influence4j.benchmarks;
