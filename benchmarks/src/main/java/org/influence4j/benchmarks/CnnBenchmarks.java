package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.Curvature;
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

/**
 * The Fashion-MNIST CNN of {@code examples/fashion-mnist-cnn} (Conv 1→8 5×5, ReLU, MaxPool 2, Conv
 * 8→16 5×5, ReLU, MaxPool 2, Dense 256→32, Tanh, Dense 32→10; 11,978 parameters, float32) on a batch
 * of seeded random 28×28 images, on the backend named by {@code influence4j.bench.backend}: batched
 * per-sample gradients, one HVP and one Gauss-Newton product over the batch (recomputing the passes,
 * and from the kept ones: {@link TwiceDifferentiable#keepCurvature}). Throughput in images
 * per second is {@code batch / (ms per op / 1000)}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class CnnBenchmarks {

    /** The CNN of the example, in the sequential shorthand of format 2. */
    static final String CNN = "{\"format\": 2, \"input\": {\"shape\": [1, 28, 28]}, \"layers\": ["
            + "{\"op\": \"conv2d\", \"in_channels\": 1, \"out_channels\": 8, \"kernel_size\": 5}, {\"op\": \"relu\"},"
            + " {\"op\": \"max_pool2d\", \"kernel_size\": 2},"
            + " {\"op\": \"conv2d\", \"in_channels\": 8, \"out_channels\": 16, \"kernel_size\": 5}, {\"op\": \"relu\"},"
            + " {\"op\": \"max_pool2d\", \"kernel_size\": 2}, {\"op\": \"flatten\"},"
            + " {\"op\": \"dense\", \"in_features\": 256, \"out_features\": 32}, {\"op\": \"tanh\"},"
            + " {\"op\": \"dense\", \"in_features\": 32, \"out_features\": 10}],"
            + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float32\"}";

    /** Images per call. */
    @Param({"128"})
    public int batch;

    private TwiceDifferentiable model;
    private TensorScope scope;
    private Batch data;
    private Tensor v;
    private KeptCurvature keptHessian;
    private KeptCurvature keptGaussNewton;

    /** Builds the model, the images and a direction. */
    @Setup(Level.Trial)
    public void setUp() {
        Backend backend = Workload.backend();
        ModelSpec spec = ModelSpec.fromJson(CNN);
        model = backend.createModel(spec, spec.initialParameters(1));
        scope = backend.newScope();
        data = Workload.data(batch, 784, 10, 2);
        int p = spec.numParameters();
        v = scope.fromArray(Workload.random(p, 3), DType.FLOAT32, 1, p);
        keptHessian = model.keepCurvature(data, Curvature.HESSIAN);
        keptGaussNewton = model.keepCurvature(data, Curvature.GAUSS_NEWTON);
    }

    /** Frees the native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        keptHessian.close();
        keptGaussNewton.close();
        scope.close();
        model.close();
    }

    /** @return a checksum */
    @Benchmark
    public long perSampleGradients() {
        try (TensorScope s = scope.newChild()) {
            return model.perSampleGradients(data, s).shape()[0];
        }
    }

    /** @return a checksum */
    @Benchmark
    public long hvp() {
        try (TensorScope s = scope.newChild()) {
            return model.hvpBlock(data, v, s).shape()[0];
        }
    }

    /** @return a checksum */
    @Benchmark
    public long gaussNewton() {
        try (TensorScope s = scope.newChild()) {
            return model.gaussNewtonBlock(data, v, s).shape()[0];
        }
    }

    /** @return a checksum: {@link #hvp} from the batch's kept forward and backward passes (made in the set-up) */
    @Benchmark
    public long keptHvp() {
        try (TensorScope s = scope.newChild()) {
            return keptHessian.times(v, s).shape()[0];
        }
    }

    /** @return a checksum: {@link #gaussNewton} from the batch's kept forward pass (made in the set-up) */
    @Benchmark
    public long keptGaussNewton() {
        try (TensorScope s = scope.newChild()) {
            return keptGaussNewton.times(v, s).shape()[0];
        }
    }
}
