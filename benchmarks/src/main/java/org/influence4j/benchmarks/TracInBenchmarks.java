package org.influence4j.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.RandProjOptions;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCPFastRandProj;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.io.data.BundledDatasets;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The TracIn family on the digits MLP of the attribution issue (features / 16, 1,437 training
 * points, MLP 64→32 tanh→10, float64, SGD lr 0.1, batch 32, 30 epochs, 6 checkpoints). Scores are
 * <em>training examples per second</em>: {@code selfInfluence} scores every training point once;
 * {@code topK} finds the 10 proponents of 32 test points by streaming the whole training set
 * through the bounded top-k, so one operation = one training example scored against 32 test points.
 * The model is trained once per trial, outside the measurement.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class TracInBenchmarks {

    /** Training points of the seeded split. */
    static final int TRAIN = 1437;
    /** Test points per top-k query. */
    static final int TEST = 32;

    /** {@code cp}: all parameters; {@code fast}: last layer, factorised; {@code randproj}: projected to 64 per checkpoint. */
    @Param({"cp", "fast", "randproj"})
    public String method;

    private Path directory;
    private TwiceDifferentiable model;
    private TrainingDataAttribution attribution;
    private DataSource train;
    private Batch test;

    /** Trains the MLP with checkpoints and builds the method. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Backend backend = Workload.backend();
        ModelSpec spec = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch digits = BundledDatasets.digits();
        double[] x = digits.x().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] /= 16.0;
        }
        Batch all = new Batch(x, digits.numFeatures(), digits.y(), 1);
        Batch trainBatch = all.slice(0, TRAIN);
        test = all.slice(TRAIN, TRAIN + TEST);
        train = new InMemoryDataSource(trainBatch);
        model = backend.createModel(spec, spec.initialParameters(0));
        directory = Files.createTempDirectory("influence4j-tracin-bench");
        new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.1), 30, 32, 1).withCheckpoints(directory, 5))
                .train(model, train);
        TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(directory, spec, CheckpointLoader.DEFAULT);
        attribution = switch (method) {
            case "cp" -> new TracInCP(model, checkpoints, TracInOptions.defaults());
            case "fast" -> new TracInCPFast(model, checkpoints, 256, false);
            case "randproj" -> new TracInCPFastRandProj(model, checkpoints, train, RandProjOptions.of(64));
            default -> throw new IllegalArgumentException("method: cp, fast or randproj, got " + method);
        };
    }

    /** Frees native memory and deletes the checkpoints. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        model.close();
        FileTrees.delete(directory);
    }

    /** @return a checksum so the work is not eliminated */
    @Benchmark
    @OperationsPerInvocation(TRAIN)
    public double selfInfluence() {
        return Arrays.stream(attribution.selfInfluence(train)).sum();
    }

    /** @return a checksum so the work is not eliminated */
    @Benchmark
    @OperationsPerInvocation(TRAIN)
    public long topK() {
        return attribution.topK(test, train, 10, TopKOrder.PROPONENTS).indices(0)[0];
    }
}
