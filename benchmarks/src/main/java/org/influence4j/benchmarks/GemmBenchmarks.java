package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.calculators.internal.DenseLinalg;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The influence GEMM stage {@code Z · Gᵀ}: factors {@code [m, p]} times training gradients
 * {@code [n, p]} transposed, giving the {@code [m, n]} block (float32), and the square float32
 * GEMM that the harness uses as the machine's reference rate.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class GemmBenchmarks {

    /** Test points m. */
    @Param({"64"})
    public int m;

    /** Training points per block n. */
    @Param({"1024"})
    public int n;

    /** Parameters p. */
    @Param({"2410", "19210"})
    public int p;

    private TensorScope scope;
    private Tensor factors;
    private Tensor gradients;
    private Tensor square;

    /** Creates the operands. */
    @Setup(Level.Trial)
    public void setUp() {
        Backend backend = Workload.backend();
        scope = backend.newScope();
        factors = scope.fromArray(Workload.random(m * p, 1), DType.FLOAT32, m, p);
        gradients = scope.fromArray(Workload.random(n * p, 2), DType.FLOAT32, n, p);
        square = scope.fromArray(Workload.random(1024 * 1024, 3), DType.FLOAT32, 1024, 1024);
    }

    /** Frees native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
    }

    /** @return a checksum; the block as the calculators compute it ({@link DenseLinalg#timesTransposed}) */
    @Benchmark
    public double influenceBlock() {
        try (Tensor block = DenseLinalg.timesTransposed(factors, gradients)) {
            return block.shape()[1];
        }
    }

    /** @return a checksum */
    @Benchmark
    public double squareGemm1024() {
        try (Tensor c = square.matmul(square)) {
            return c.shape()[0];
        }
    }
}
