package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
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

/** Per-sample gradients {@code [n, p]} of a 64→hidden→10 MLP (float32) in one batched pass. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class GradientBenchmarks extends MlpState {

    /** @return a checksum so the work is not eliminated */
    @Benchmark
    public double perSampleGradients() {
        try (TensorScope s = scope.newChild(); Tensor g = model.perSampleGradients(data, s)) {
            return g.shape()[0];
        }
    }
}
