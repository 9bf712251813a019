package org.influence4j.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.io.Idx;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The attribution queries of the Fashion-MNIST CNN example ({@code examples/fashion-mnist-cnn},
 * 11,978 parameters, float32) on the first 2,000 training and 500 test images of Debian's
 * {@code dataset-fashion-mnist}, trained once per trial with SGD (lr 0.05, batch 32, 8 epochs,
 * checkpoints every 2 epochs: 4), on the backend named by {@code influence4j.bench.backend}:
 * TracInCP self-influence (2,000) and influences (500 × 2,000), TracInCPFast self-influence, the
 * EK-FAC fit and EK-FAC self-influence (λ = 0.01). Each operation is one whole query, timed once
 * per measurement ({@code SingleShotTime}, seconds): the numbers compare with the references of the
 * performance issue (Captum TracInCP self-influence 1.88 s, influences 3.06 s; TracInCPFast
 * 0.30 s).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-Dai.djl.offline=true"})
public class CnnAttributionBenchmarks {

    /** Where Debian's dataset-fashion-mnist puts the IDX files. */
    static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");
    static final int TRAIN = 2000;
    static final int TEST = 500;

    private Path checkpointDir;
    private TwiceDifferentiable model;
    private DataSource train;
    private Batch trainBatch;
    private Batch test;
    private TracInCheckpoints checkpoints;
    private EkfacInfluence fittedEkfac;

    /** Reads the images, trains the CNN with checkpoints and fits one EK-FAC for the scoring benchmark. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Backend backend = Workload.backend();
        ModelSpec spec = ModelSpec.fromJson(CnnBenchmarks.CNN);
        trainBatch = images("train", TRAIN);
        test = images("t10k", TEST);
        train = new InMemoryDataSource(trainBatch);
        model = backend.createModel(spec, spec.initialParameters(5));
        checkpointDir = Files.createTempDirectory("influence4j-cnn-bench");
        FashionQueryTable.trainWithCheckpoints(model, train, checkpointDir);
        checkpoints = TracInCheckpoints.fromDirectory(checkpointDir, spec, CheckpointLoader.DEFAULT);
        fittedEkfac = new EkfacInfluence(model, ekfacOptions());
        fittedEkfac.fit(train);
    }

    private static EkfacOptions ekfacOptions() {
        return new EkfacOptions(0.01, true, EkfacCurvature.FISHER, 256);
    }

    /** @return the first {@code n} images of a split, scaled to [0, 1], with their labels */
    static Batch images(String split, int n) throws IOException {
        HostArray x = Idx.read(DATA.resolve(split + "-images-idx3-ubyte.gz"), n);
        HostArray y = Idx.read(DATA.resolve(split + "-labels-idx1-ubyte.gz"), n);
        double[] pixels = x.data();
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] /= 255.0;
        }
        return new Batch(pixels, 784, y.data(), 1);
    }

    /** Frees native memory and deletes the checkpoints. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        fittedEkfac.close();
        model.close();
        FileTrees.delete(checkpointDir);
    }

    /** @return a checksum: TracInCP self-influence of the 2,000 training images */
    @Benchmark
    public double tracInCpSelfInfluence() {
        return Arrays.stream(new TracInCP(model, checkpoints, TracInOptions.defaults()).selfInfluence(train)).sum();
    }

    /** @return a checksum: TracInCP influences [500, 2,000] */
    @Benchmark
    public double tracInCpInfluences() {
        try (TensorScope scope = model.backend().newScope();
             Tensor scores = new TracInCP(model, checkpoints, TracInOptions.defaults())
                     .influences(test, trainBatch, scope)) {
            return scores.toDoubleArray()[0];
        }
    }

    /** @return a checksum: TracInCPFast self-influence of the 2,000 training images */
    @Benchmark
    public double tracInCpFastSelfInfluence() {
        return Arrays.stream(new TracInCPFast(model, checkpoints, 256, false).selfInfluence(train)).sum();
    }

    /** @return a checksum: the EK-FAC fit (factors, eigendecompositions, eigenvalue refit) on 2,000 images */
    @Benchmark
    public boolean ekfacFit() {
        try (EkfacInfluence ekfac = new EkfacInfluence(model, ekfacOptions())) {
            return ekfac.fit(train).isFitted();
        }
    }

    /** @return a checksum: EK-FAC self-influence of the 2,000 training images from the fitted model */
    @Benchmark
    public double ekfacSelfInfluence() {
        return Arrays.stream(new InfluenceFunctionAttribution(model, fittedEkfac, 256).selfInfluence(train)).sum();
    }
}
