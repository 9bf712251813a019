package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ModelSpec;
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

/** Per-sample gradients {@code [n, p]} of a 64→hidden→10 MLP (float32) in one batched pass. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class GradientBenchmarks {

    /** Hidden width: p = 65·hidden + 10·(hidden+1). */
    @Param({"32", "256"})
    public int hidden;

    /** Samples per batch. */
    @Param({"512"})
    public int batch;

    private TwiceDifferentiable model;
    private Batch data;
    private TensorScope scope;

    /** Builds the model and data. */
    @Setup(Level.Trial)
    public void setUp() {
        Backend backend = Workload.backend();
        ModelSpec spec = Workload.mlp(64, hidden, 10);
        model = backend.createModel(spec, spec.initialParameters(1));
        data = Workload.data(batch, 64, 10, 2);
        scope = backend.newScope();
    }

    /** Frees native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        model.close();
    }

    /** @return a checksum so the work is not eliminated */
    @Benchmark
    public double perSampleGradients() {
        try (TensorScope s = scope.newChild(); Tensor g = model.perSampleGradients(data, s)) {
            return g.shape()[0];
        }
    }
}
