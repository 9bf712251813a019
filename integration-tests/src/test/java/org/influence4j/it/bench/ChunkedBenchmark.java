package org.influence4j.it.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.ChunkedInfluenceCalculator;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.InfluenceWorkerFactory;
import org.influence4j.calculators.chunked.ParallelInfluenceCalculator;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.calculators.chunked.SequentialInfluenceCalculator;
import org.influence4j.calculators.chunked.TopKSink;
import org.influence4j.calculators.chunked.ZarrSink;
import org.influence4j.calculators.influence.CgInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.registry.BackendDiscovery;

/**
 * Benchmark harness for the chunked calculators on the DJL PyTorch backend (a main, not a test).
 * Data are synthetic and digits-shaped: 64 features in [0, 1] (8x8 "pixels"), 10 classes; the model
 * is an MLP 64-32(tanh)-10 with softmax cross-entropy in float32 (p = 2410), at seeded initial
 * parameters (not trained, so λ = 1 keeps H + λI positive definite); factors by CG on {@code H + λI} of the mean
 * loss over the first 2,000 (throughput) or 5,000 (stream)
 * training points.
 *
 * <pre>
 * # classpath: integration-tests test classes + dependencies
 * mvn -B -o -q -pl integration-tests -am test-compile -DskipTests
 * mvn -B -o -q -pl integration-tests dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * CP=integration-tests/target/test-classes:$(cat /tmp/cp.txt)
 * # 1. throughput, sequential vs 2 threads (one model per thread, 1 intra-op thread each)
 * java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 \
 *      -cp $CP org.influence4j.it.bench.ChunkedBenchmark throughput
 * # 2. 200,000 train x 1,000 test influences streamed to a Zarr array under -Xmx1g, peak RSS reported
 * java -Xmx1g -Dai.djl.offline=true -cp $CP org.influence4j.it.bench.ChunkedBenchmark stream /tmp/infl.zarr
 * </pre>
 */
public final class ChunkedBenchmark {

    private static final int FEATURES = 64;
    private static final int CLASSES = 10;

    private ChunkedBenchmark() {
    }

    /** Synthetic digits-shaped samples; sample i depends only on (seed, i). */
    static Batch digits(long from, int count, long seed) {
        double[] x = new double[count * FEATURES];
        double[] y = new double[count];
        for (int k = 0; k < count; k++) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + from + k);
            int label = r.nextInt(CLASSES);
            y[k] = label;
            for (int f = 0; f < FEATURES; f++) {
                double base = ((f * 7 + label * 13) % 17) / 16.0;
                x[k * FEATURES + f] = Math.min(1, Math.max(0, base + 0.25 * r.nextGaussian()));
            }
        }
        return new Batch(x, FEATURES, y, 1);
    }

    static ModelSpec spec() {
        return ModelSpec.builder(FEATURES).dense(32).activation(Activation.TANH).dense(CLASSES)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT32).build();
    }

    static InfluenceWorkerFactory factory(Backend backend, ModelSpec spec, double[] theta, Batch hessianData,
            double lambda) {
        return InfluenceWorkerFactory.of(spec.numParameters(), () -> {
            var model = backend.createModel(spec, theta);
            CgInfluence influence = new CgInfluence(model, new InfluenceOptions(lambda, 1000),
                    new CgOptions(1e-4, 1e-4, 200));
            influence.fit(new InMemoryDataSource(hessianData));
            return InfluenceWorker.owning(influence, model);
        });
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "throughput";
        Backend backend = BackendDiscovery.load().require("djl-pytorch");
        ModelSpec spec = spec();
        double[] theta = spec.initialParameters(42);
        switch (mode) {
            case "throughput" -> throughput(backend, spec, theta, args);
            case "stream" -> stream(backend, spec, theta, args);
            default -> throw new IllegalArgumentException("mode: throughput or stream, got " + mode);
        }
    }

    private static void throughput(Backend backend, ModelSpec spec, double[] theta, String[] args) {
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 40_000;
        int m = 200;
        int trainChunk = 2_000;
        InfluenceWorkerFactory factory = factory(backend, spec, theta, digits(0, 2_000, 1), 1.0);
        ChunkedData test = ChunkedData.of(digits(0, m, 2), m);
        ChunkedData train = ChunkedData.generated(n, trainChunk, FEATURES, 1, (from, count) -> digits(from, count, 1));
        HostArray z;
        try (InfluenceWorker w = factory.create()) {
            z = new SequentialInfluenceCalculator(w).influenceFactors(test).compute();
        }
        ChunkedArray factors = ChunkedArray.byRows(z, m);
        System.out.printf("throughput: m=%d test factors x n=%d train, blocks %d x %d, p=%d, %d cores visible%n", m, n,
                m, trainChunk, spec.numParameters(), Runtime.getRuntime().availableProcessors());
        double[] seq = new double[3];
        double[] par = new double[3];
        for (int rep = -1; rep < 3; rep++) {
            double s;
            try (InfluenceWorker w = factory.create()) {
                s = run(new SequentialInfluenceCalculator(w), factors, train);
            }
            double p = run(ParallelInfluenceCalculator.perWorker(factory, 2), factors, train);
            if (rep >= 0) {
                seq[rep] = s;
                par[rep] = p;
                System.out.printf("  rep %d: sequential %.0f influences/s, parallel(2) %.0f influences/s, ratio %.2f%n",
                        rep, s, p, p / s);
            }
        }
        Arrays.sort(seq);
        Arrays.sort(par);
        System.out.printf("median: sequential %.0f influences/s, parallel(2) %.0f influences/s, speed-up %.2fx%n",
                seq[1], par[1], par[1] / seq[1]);
    }

    private static double run(ChunkedInfluenceCalculator calc, ChunkedArray factors, ChunkedData train) {
        long t0 = System.nanoTime();
        TopK r = calc.influencesFromFactors(factors, train, InfluenceMode.UP).writeTo(TopKSink.largest(10))
                .result();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (r.indices().length != factors.shape()[0]) {
            throw new IllegalStateException("unexpected top-k result");
        }
        return factors.shape()[0] * (double) train.size() / seconds;
    }

    private static void stream(Backend backend, ModelSpec spec, double[] theta, String[] args) throws Exception {
        Path dir = Path.of(args.length > 1 ? args[1] : "/tmp/influence4j-bench.zarr");
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 200_000;
        int m = args.length > 3 ? Integer.parseInt(args[3]) : 1_000;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        InfluenceWorkerFactory factory = factory(backend, spec, theta, digits(0, 5_000, 1), 1.0);
        ChunkedData test = ChunkedData.generated(m, 250, FEATURES, 1, (from, count) -> digits(from, count, 2));
        ChunkedData train = ChunkedData.generated(n, 4_000, FEATURES, 1, (from, count) -> digits(from, count, 1));
        ParallelInfluenceCalculator calc = ParallelInfluenceCalculator.perWorker(factory, threads);
        long t0 = System.nanoTime();
        HostArray z = calc.influenceFactors(test).compute(ProgressListener.logging(10_000));
        double factorSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("factors [%d, %d] by CG in %.1f s%n", m, spec.numParameters(), factorSeconds);
        long t1 = System.nanoTime();
        ZarrSink sink = calc.influencesFromFactors(ChunkedArray.byRows(z, 500), train, InfluenceMode.UP)
                .writeTo(ZarrSink.create(dir, new ZarrSink.Options(DType.FLOAT32, ZarrSink.Compression.ZLIB, 1)),
                        new ProgressListener() {
                            private long total;
                            private long done;

                            @Override
                            public void started(String task, long totalSteps) {
                                total = totalSteps;
                            }

                            @Override
                            public void step(long steps) {
                                done += steps;
                                if (done % 10 == 0 || done == total) {
                                    System.out.printf("  %d/%d blocks, heap used %d MB, RSS %d MB%n", done, total,
                                            usedHeapMb(), rssMb("VmRSS"));
                                }
                            }
                        });
        double seconds = (System.nanoTime() - t1) / 1e9;
        long bytes;
        try (var files = Files.list(sink.dir())) {
            bytes = files.mapToLong(f -> f.toFile().length()).sum();
        }
        System.out.printf("streamed %d x %d influences to %s in %.1f s (%.0f influences/s), %d MB on disk%n", m, n, dir,
                seconds, (double) m * n / seconds, bytes >> 20);
        System.out.printf("max heap %d MB, peak RSS (VmHWM) %d MB%n", Runtime.getRuntime().maxMemory() >> 20,
                rssMb("VmHWM"));
    }

    private static long usedHeapMb() {
        Runtime r = Runtime.getRuntime();
        return (r.totalMemory() - r.freeMemory()) >> 20;
    }

    private static long rssMb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
                }
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }
}
