package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Exact Hessian-vector products of the mean loss over a batch: one vector, and a block of 16. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class HvpBenchmarks extends MlpState {

    private Tensor v;
    private Tensor block;

    /** The direction vector and a block of 16 directions. */
    @Override
    protected void prepare(int p) {
        v = scope.fromArray(Workload.random(p, 3), DType.FLOAT32, p);
        block = scope.fromArray(Workload.random(16 * p, 4), DType.FLOAT32, 16, p);
    }

    /** @return a checksum */
    @Benchmark
    public double hvp() {
        try (TensorScope s = scope.newChild()) {
            return model.hvp(data, v, s).shape()[0];
        }
    }

    /** @return a checksum */
    @Benchmark
    public double hvpBlock16() {
        try (TensorScope s = scope.newChild()) {
            return model.hvpBlock(data, block, s).shape()[0];
        }
    }
}
