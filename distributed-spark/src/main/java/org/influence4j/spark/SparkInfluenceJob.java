package org.influence4j.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.CsvDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.io.HostArray;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterFiles;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.ProgressListener;
import org.influence4j.calculators.chunked.ZarrSink;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;

/**
 * A ready {@code spark-submit} entry point: influences of every training point on every test
 * point ({@code [m, n]}, UP mode, pyDVL's sign) written to a Zarr v2 array by the executors.
 * Factors {@code H⁻¹∇ℓ(test)} are computed first (one block per test chunk), then
 * {@code influencesFromFactors} over training chunks.
 *
 * <p>Arguments are {@code key=value}: {@code spec} (model JSON), {@code params} ({@code .safetensors}
 * or {@code .npy}), {@code train} and {@code test} (CSV, label in the last column, no header),
 * {@code out} (the Zarr directory, on storage that all executors share); optional
 * {@code backend} (default: best available), {@code method} ({@code cg} | {@code direct}, default
 * {@code cg}), {@code lambda} (default 0.01), {@code testChunk} (256), {@code trainChunk} (4096),
 * {@code tasks} (default parallelism), {@code dtype} ({@code f4} | {@code f8}, default f4),
 * {@code zlib} (level 1..9, 0 = raw; default 1). Rerunning with the same {@code out} resumes.
 */
public final class SparkInfluenceJob {

    private static final Set<String> KEYS = Set.of("spec", "params", "train", "test", "out", "backend", "method",
            "lambda", "testChunk", "trainChunk", "tasks", "dtype", "zlib");

    private SparkInfluenceJob() {
    }

    /** Runs the job on the session that {@code spark-submit} configured. */
    public static void main(String[] args) throws IOException {
        SparkSession spark = SparkSession.builder().appName("influence4j").getOrCreate();
        try {
            run(spark, args);
        } finally {
            spark.stop();
        }
    }

    /**
     * Runs the job on {@code spark}.
     *
     * @return the Zarr sink written
     * @throws IllegalArgumentException naming a missing, unknown or malformed argument
     * @throws IOException if an input file cannot be read
     */
    public static ZarrSink run(SparkSession spark, String... args) throws IOException {
        Map<String, String> a = parse(args);
        ModelSpec spec = ModelSpec.read(Path.of(require(a, "spec")));
        double[] theta = ParameterFiles.read(Path.of(require(a, "params")), spec);
        int labelWidth = spec.loss() == org.influence4j.api.model.Loss.MSE ? spec.outputDim() : 1;
        Batch train = CsvDataSource.open(Path.of(require(a, "train")), 0, labelWidth).readAll();
        Batch test = CsvDataSource.open(Path.of(require(a, "test")), 0, labelWidth).readAll();
        InversionMethod method = switch (a.getOrDefault("method", "cg")) {
            case "cg" -> InversionMethod.CG;
            case "direct" -> InversionMethod.DIRECT;
            default -> throw new IllegalArgumentException("method: cg or direct, got " + a.get("method"));
        };
        double lambda = Double.parseDouble(a.getOrDefault("lambda", "0.01"));
        int testChunk = Integer.parseInt(a.getOrDefault("testChunk", "256"));
        int trainChunk = Integer.parseInt(a.getOrDefault("trainChunk", "4096"));
        DType dtype = switch (a.getOrDefault("dtype", "f4")) {
            case "f4" -> DType.FLOAT32;
            case "f8" -> DType.FLOAT64;
            default -> throw new IllegalArgumentException("dtype: f4 or f8, got " + a.get("dtype"));
        };
        int zlib = Integer.parseInt(a.getOrDefault("zlib", "1"));
        ZarrSink.Options options = zlib == 0 ? new ZarrSink.Options(dtype, ZarrSink.Compression.NONE, 0)
                : new ZarrSink.Options(dtype, ZarrSink.Compression.ZLIB, zlib);

        SpecWorkerFactory factory = SpecWorkerFactory.of(a.get("backend"), spec, theta, train, method,
                InfluenceOptions.of(lambda), CgOptions.defaults());
        SparkInfluenceCalculator calc = a.containsKey("tasks")
                ? new SparkInfluenceCalculator(spark, factory, Integer.parseInt(a.get("tasks")))
                : new SparkInfluenceCalculator(spark, factory);
        HostArray factors = calc.influenceFactors(ChunkedData.of(test, testChunk))
                .compute(ProgressListener.logging(10_000));
        return calc.influencesFromFactors(ChunkedArray.byRows(factors, testChunk), ChunkedData.of(train, trainChunk),
                InfluenceMode.UP).writeTo(ZarrSink.create(Path.of(require(a, "out")), options),
                        ProgressListener.logging(10_000));
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("argument '" + arg + "' is not key=value; keys: " + KEYS);
            }
            String key = arg.substring(0, eq);
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown argument '" + key + "'; keys: " + KEYS);
            }
            map.put(key, arg.substring(eq + 1));
        }
        return map;
    }

    private static String require(Map<String, String> args, String key) {
        String v = args.get(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(key + ": missing; pass " + key + "=...");
        }
        return v;
    }
}
