package org.influence4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.InMemorySink;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.calculators.chunked.SequentialInfluenceCalculator;
import org.influence4j.calculators.chunked.ZarrSink;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spark {@code local[2]} against the sequential calculator, on the DJL PyTorch backend in float64. */
class SparkInfluenceCalculatorTest {

    private static final int D = SparkTestData.D;
    private static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkTestData.localSession("influence4j-test");
    }

    @AfterAll
    static void stopSpark() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static SpecWorkerFactory factory(ModelSpec spec, Batch train, InversionMethod method) {
        double[] theta = spec.initialParameters(7);
        return SpecWorkerFactory.of("djl-pytorch", spec, theta, train, method, new InfluenceOptions(spec.layers().size() > 1 ? 1.0 : 0.1, 16),
                new CgOptions(1e-10, 0, 0));
    }

    @Test
    void localTwoEqualsSequentialForInfluencesCollectedOnTheDriver() {
        ModelSpec spec = ModelSpec.builder(D).dense(4).activation(Activation.TANH).dense(1)
                .loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch train = SparkTestData.logistic(40, 1);
        SpecWorkerFactory factory = factory(spec, train, InversionMethod.DIRECT);
        ChunkedData test = ChunkedData.of(SparkTestData.logistic(7, 2), 3);
        ChunkedData trainChunks = ChunkedData.of(train, 15);
        HostArray expected;
        try (InfluenceWorker worker = factory.create()) {
            expected = new SequentialInfluenceCalculator(worker).influences(test, trainChunks).compute();
        }
        long[] steps = {0};
        HostArray actual = new SparkInfluenceCalculator(spark, factory, 3).influences(test, trainChunks)
                .writeTo(new InMemorySink(), new ProgressListener() {
                    @Override
                    public void step(long n) {
                        steps[0] += n;
                    }
                }).result();
        assertArrayEquals(new long[] {7, 40}, actual.shape());
        assertArrayEquals(expected.data(), actual.data(), 1e-6);
        assertEquals(9, steps[0], "one step per finished task");
        assertTrue(SparkTestData.maxAbs(expected.data()) > 1e-3, "influences are not trivially zero");
    }

    @Test
    void cgFactorsThenInfluencesWrittenToZarrByTheExecutorsEqualSequential() throws Exception {
        ModelSpec spec = ModelSpec.builder(D).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch train = SparkTestData.logistic(50, 3);
        SpecWorkerFactory factory = factory(spec, train, InversionMethod.CG);
        ChunkedData test = ChunkedData.of(SparkTestData.logistic(6, 4), 4);
        ChunkedData trainChunks = ChunkedData.of(train, 20);
        HostArray expected;
        HostArray factors;
        try (InfluenceWorker worker = factory.create()) {
            SequentialInfluenceCalculator seq = new SequentialInfluenceCalculator(worker);
            factors = seq.influenceFactors(test).compute();
            expected = seq.influencesFromFactors(ChunkedArray.byRows(factors, 4), trainChunks, InfluenceMode.UP)
                    .compute();
        }
        SparkInfluenceCalculator calc = new SparkInfluenceCalculator(spark, factory);
        HostArray sparkFactors = calc.influenceFactors(test).compute();
        assertArrayEquals(factors.data(), sparkFactors.data(), 1e-6);

        Path dir = tmp.resolve("influences.zarr");
        calc.influencesFromFactors(ChunkedArray.byRows(sparkFactors, 4), trainChunks, InfluenceMode.UP)
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults()));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1 + 2 * 3, files.filter(Files::isRegularFile).count(), ".zarray and 2 x 3 chunk files");
        }
        try (Stream<Path> records = Files.list(dir.resolve(".blocks"))) {
            assertEquals(2 * 3, records.count(), "the executors wrote a completion record per chunk");
        }
        double[] stored = new double[6 * 50];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(Files.readAllBytes(dir.resolve(i + "." + j)))
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int a = 0; a < 4; a++) {
                    for (int b = 0; b < 20; b++) {
                        double v = bb.getDouble();
                        if (i * 4 + a < 6 && j * 20 + b < 50) {
                            stored[(i * 4 + a) * 50 + j * 20 + b] = v;
                        }
                    }
                }
            }
        }
        assertArrayEquals(expected.data(), stored, 1e-6);

        long[] resumed = {0};
        calc.influencesFromFactors(ChunkedArray.byRows(sparkFactors, 4), trainChunks, InfluenceMode.UP)
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults()), new ProgressListener() {
                    @Override
                    public void resumed(long n) {
                        resumed[0] = n;
                    }
                });
        assertEquals(6, resumed[0], "a complete array is not recomputed");
    }

    @Test
    void sparkSubmitEntryPointWritesTheSameInfluences() throws Exception {
        ModelSpec spec = ModelSpec.builder(D).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        double[] theta = spec.initialParameters(7);
        Batch train = SparkTestData.logistic(20, 5);
        Batch test = SparkTestData.logistic(5, 6);
        Path specFile = tmp.resolve("spec.json");
        spec.write(specFile);
        Path params = tmp.resolve("params.npy");
        org.influence4j.io.ParameterFiles.write(params, spec, theta, java.util.Map.of());
        Path out = tmp.resolve("job.zarr");
        String[] job = {"spec=" + specFile, "params=" + params, "train=" + csv(train, "train.csv"),
            "test=" + csv(test, "test.csv"), "out=" + out, "backend=djl-pytorch", "method=direct", "lambda=0.1",
            "testChunk=5", "trainChunk=20", "tasks=1", "dtype=f8", "zlib=0"};
        SparkInfluenceJob.run(spark, job);
        assertEquals("0.1", ZarrSink.readProvenance(out).orElseThrow().identity().get("lambda"));
        // the same out with another λ is refused before anything runs; overwrite=true starts afresh
        String[] otherLambda = job.clone();
        otherLambda[7] = "lambda=0.5";
        org.influence4j.api.provenance.ProvenanceMismatchException mix = org.junit.jupiter.api.Assertions.assertThrows(
                org.influence4j.api.provenance.ProvenanceMismatchException.class,
                () -> SparkInfluenceJob.run(spark, otherLambda));
        assertTrue(mix.getMessage().contains("lambda is 0.1 there but 0.5 now") && mix.getMessage()
                .contains("overwrite=true"), mix.getMessage());
        SparkInfluenceJob.run(spark, append(otherLambda, "overwrite=true"));
        assertEquals("0.5", ZarrSink.readProvenance(out).orElseThrow().identity().get("lambda"));
        SparkInfluenceJob.run(spark, append(job, "overwrite=true"));
        HostArray expected;
        try (InfluenceWorker worker = SpecWorkerFactory.of("djl-pytorch", spec, theta, train, InversionMethod.DIRECT,
                InfluenceOptions.of(0.1), CgOptions.defaults()).create()) {
            expected = new SequentialInfluenceCalculator(worker).influences(ChunkedData.of(test, 5),
                    ChunkedData.of(train, 20)).compute();
        }
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(Files.readAllBytes(out.resolve("0.0")))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        double[] stored = new double[5 * 20];
        for (int k = 0; k < stored.length; k++) {
            stored[k] = bb.getDouble();
        }
        assertArrayEquals(expected.data(), stored, 1e-6);
    }

    @Test
    void sparkSubmitEntryPointReadsParquetWrittenBySparkLikeCsv() throws Exception {
        ModelSpec spec = ModelSpec.builder(D).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        double[] theta = spec.initialParameters(7);
        Batch train = SparkTestData.logistic(30, 8);
        Batch test = SparkTestData.logistic(4, 9);
        Path specFile = tmp.resolve("spec.json");
        spec.write(specFile);
        Path params = tmp.resolve("params.npy");
        org.influence4j.io.ParameterFiles.write(params, spec, theta, java.util.Map.of());
        Path trainParquet = parquet(train, "train.parquet", 3);
        Path testParquet = parquet(test, "test.parquet", 1);
        Path out = tmp.resolve("parquet.zarr");
        SparkInfluenceJob.run(spark, "spec=" + specFile, "params=" + params, "train=" + trainParquet, "orderBy=id",
                "test=" + testParquet, "features=x", "label=y", "out=" + out, "backend=djl-pytorch", "method=direct",
                "lambda=0.1", "testChunk=4", "trainChunk=30", "tasks=2", "dtype=f8", "zlib=0");
        HostArray expected;
        try (InfluenceWorker worker = SpecWorkerFactory.of("djl-pytorch", spec, theta, train, InversionMethod.DIRECT,
                InfluenceOptions.of(0.1), CgOptions.defaults()).create()) {
            expected = new SequentialInfluenceCalculator(worker).influences(ChunkedData.of(test, 4),
                    ChunkedData.of(train, 30)).compute();
        }
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(Files.readAllBytes(out.resolve("0.0")))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        double[] stored = new double[4 * 30];
        for (int k = 0; k < stored.length; k++) {
            stored[k] = bb.getDouble();
        }
        assertArrayEquals(expected.data(), stored, 1e-6);
        assertTrue(SparkTestData.maxAbs(expected.data()) > 1e-3, "influences are not trivially zero");

        String[] common = {"spec=" + specFile, "params=" + params, "test=" + testParquet, "out=" + tmp.resolve("x.zarr"),
            "features=x", "label=y"};
        assertJobRefuses("train (" + trainParquet + "): features: no column 'features'; the Dataset has [id, x, y]",
                append(common, "train=" + trainParquet, "features=features"));
        assertJobRefuses("orderBy: no column 'key' in train (id, x, y)",
                append(common, "train=" + trainParquet, "orderBy=key"));
        assertJobRefuses("testChunk: 'many' is not test points per chunk; pass testChunk=<integer in [1, ∞]>",
                append(common, "train=" + trainParquet, "testChunk=many"));
        IllegalArgumentException missing = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> SparkInfluenceJob.run(spark,
                        append(common, "train=" + tmp.resolve("nowhere.parquet"))));
        assertTrue(missing.getMessage().startsWith("train: Spark cannot read '" + tmp.resolve("nowhere.parquet")
                + "' as parquet ("), missing.getMessage());
        assertTrue(!missing.getMessage().contains("\n"), "one line: " + missing.getMessage());
    }

    private static String[] append(String[] a, String... more) {
        String[] all = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, all, a.length, more.length);
        return all;
    }

    private static void assertJobRefuses(String message, String... args) {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> SparkInfluenceJob.run(spark, args));
        assertEquals(message, e.getMessage());
    }

    /** Rows (id, x, y) of {@code b}, shuffled, written by Spark as Parquet in {@code files} files. */
    private Path parquet(Batch b, String name, int files) {
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            Double[] x = new Double[D];
            for (int j = 0; j < D; j++) {
                x[j] = b.x()[i * D + j];
            }
            rows.add(org.apache.spark.sql.RowFactory.create(i, x, (int) b.y()[i]));
        }
        java.util.Collections.shuffle(rows, new java.util.Random(11));
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("id", org.apache.spark.sql.types.DataTypes.IntegerType)
                .add("x", org.apache.spark.sql.types.DataTypes.createArrayType(
                        org.apache.spark.sql.types.DataTypes.DoubleType))
                .add("y", org.apache.spark.sql.types.DataTypes.IntegerType);
        Path dir = tmp.resolve(name);
        spark.createDataFrame(rows, schema).repartition(files).write().parquet(dir.toString());
        return dir;
    }

    private Path csv(Batch b, String name) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.size(); i++) {
            for (int j = 0; j < D; j++) {
                sb.append(b.x()[i * D + j]).append(',');
            }
            sb.append(b.y()[i]).append('\n');
        }
        return Files.writeString(tmp.resolve(name), sb.toString());
    }
}
