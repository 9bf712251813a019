package org.influence4j.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.CsvDataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.api.provenance.Fingerprints;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.api.progress.ProgressListener;
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
 * or {@code .npy}), {@code train} and {@code test}, {@code out} (the Zarr directory, on storage that
 * all executors share); optional {@code backend} (default: best available), {@code method}
 * ({@code cg} | {@code direct}, default {@code cg}), {@code lambda} (default 0.01), {@code testChunk}
 * (256), {@code trainChunk} (4096), {@code tasks} (default parallelism), {@code dtype} ({@code f4} |
 * {@code f8}, default f4), {@code zlib} (level 1..9, 0 = raw; default 1). Rerunning with the same
 * {@code out} resumes — only the same computation: the store's {@code .zattrs} holds the job's
 * provenance (SHA-256 of the spec, the parameters and the data's content, method, λ, dtype,
 * backend), and a store of another computation is refused unless {@code overwrite=true}, which
 * deletes it first.
 *
 * <p><b>Data.</b> A {@code train} or {@code test} path ending in {@code .csv} is read on the driver
 * (no header, one row per sample, the label — or the {@code outputDim} targets of an MSE model — in
 * the last columns). Any other path is read by Spark as a Dataset of rows with the data source
 * {@code format} (default {@code parquet}; also {@code orc}, {@code json}, ...), from the columns
 * {@code features} (default {@code features}: an array of numbers) and {@code label} (default
 * {@code label}: a number or an array of numbers), sorted by the column {@code orderBy} when given —
 * see {@link SparkData}.
 *
 * <p>Executors need a backend: ship its plugin folder with {@code --archives
 * influence4j-spark-backends-<version>.zip#backends} and
 * {@code spark.executor.extraJavaOptions=-Dinfluence4j.backends=backends} (see the README).
 */
public final class SparkInfluenceJob {

    private static final Set<String> KEYS = new TreeSet<>(Set.of("spec", "params", "train", "test", "out", "backend",
            "method", "lambda", "testChunk", "trainChunk", "tasks", "dtype", "zlib", "format", "features", "label",
            "orderBy", "overwrite"));

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
        Batch train = data(spark, a, "train", spec);
        Batch test = data(spark, a, "test", spec);
        spec.validate(test, "test");
        InversionMethod method = switch (a.getOrDefault("method", "cg")) {
            case "cg" -> InversionMethod.CG;
            case "direct" -> InversionMethod.DIRECT;
            default -> throw new IllegalArgumentException("method: cg or direct, got " + a.get("method"));
        };
        double lambda = number(a, "lambda", "0.01");
        int testChunk = integer(a, "testChunk", "256", 1, Integer.MAX_VALUE, "test points per chunk");
        int trainChunk = integer(a, "trainChunk", "4096", 1, Integer.MAX_VALUE, "training points per chunk");
        DType dtype = switch (a.getOrDefault("dtype", "f4")) {
            case "f4" -> DType.FLOAT32;
            case "f8" -> DType.FLOAT64;
            default -> throw new IllegalArgumentException("dtype: f4 or f8, got " + a.get("dtype"));
        };
        int zlib = integer(a, "zlib", "1", 0, 9, "a zlib level 1..9, or 0 for raw chunks");
        ZarrSink.Options options = zlib == 0 ? new ZarrSink.Options(dtype, ZarrSink.Compression.NONE, 0)
                : new ZarrSink.Options(dtype, ZarrSink.Compression.ZLIB, zlib);
        Path out = Path.of(require(a, "out"));
        String overwrite = a.getOrDefault("overwrite", "false");
        if (!overwrite.equals("true") && !overwrite.equals("false")) {
            throw new IllegalArgumentException("overwrite: true or false, got " + overwrite);
        }
        Provenance record = Provenance.empty()
                .with("command", "spark-influences")
                .with("model.sha256", Fingerprints.sha256(Path.of(require(a, "spec"))))
                .with("parameters.sha256", Fingerprints.sha256(Path.of(require(a, "params"))))
                .with("train.sha256", Fingerprints.sha256(new InMemoryDataSource(train)))
                .with("test.sha256", Fingerprints.sha256(new InMemoryDataSource(test)))
                .with("method", method.configName())
                .with("lambda", lambda)
                .with("dtype", dtype.jsonName())
                .with("backend", a.getOrDefault("backend", "best available"));
        if (overwrite.equals("true")) {
            ZarrSink.deleteArray(out);
        }
        try {
            ZarrSink.requireResumable(out, record);
        } catch (ProvenanceMismatchException e) {
            throw e.withRemedy("give overwrite=true to replace it, or another out");
        }

        SpecWorkerFactory factory = SpecWorkerFactory.of(a.get("backend"), spec, theta, train, method,
                InfluenceOptions.of(lambda), CgOptions.defaults());
        SparkInfluenceCalculator calc = a.containsKey("tasks")
                ? new SparkInfluenceCalculator(spark, factory,
                        integer(a, "tasks", null, 1, Integer.MAX_VALUE, "the number of Spark tasks"))
                : new SparkInfluenceCalculator(spark, factory);
        HostArray factors = calc.influenceFactors(ChunkedData.of(test, testChunk))
                .compute(ProgressListener.logging(10_000));
        return calc.influencesFromFactors(ChunkedArray.byRows(factors, testChunk), ChunkedData.of(train, trainChunk),
                InfluenceMode.UP).writeTo(ZarrSink.create(out, options, record), ProgressListener.logging(10_000));
        // ↑ the sink checks the record again when it opens (a store without one is accepted only while empty)
    }

    /** The {@code train} or {@code test} data: a CSV file, or rows of a Spark data source (see the class). */
    private static Batch data(SparkSession spark, Map<String, String> a, String key, ModelSpec spec)
            throws IOException {
        String path = require(a, key);
        if (path.toLowerCase(Locale.ROOT).endsWith(".csv")) {
            int labelWidth = spec.loss() == Loss.MSE ? spec.outputDim() : 1;
            return CsvDataSource.open(Path.of(path), 0, labelWidth).readAll();
        }
        String format = a.getOrDefault("format", "parquet");
        Dataset<Row> rows;
        try {
            rows = spark.read().format(format).load(path);
        } catch (Exception e) { // AnalysisException (Scala: undeclared, checked for javac): no such path, unknown format
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new IllegalArgumentException(key + ": Spark cannot read '" + path + "' as " + format + " (" + why
                    + "); give a .csv file, or data that format=" + format + " reads", e);
        }
        String orderBy = a.get("orderBy");
        if (orderBy != null) {
            if (!Arrays.asList(rows.columns()).contains(orderBy)) {
                throw new IllegalArgumentException("orderBy: no column '" + orderBy + "' in " + key + " ("
                        + String.join(", ", rows.columns()) + ")");
            }
            rows = rows.orderBy(orderBy);
        }
        try {
            return SparkData.collect(rows, a.getOrDefault("features", "features"), a.getOrDefault("label", "label"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " (" + path + "): " + e.getMessage()
                    .replaceFirst("^featuresColumn", "features").replaceFirst("^labelColumn", "label"), e);
        }
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

    private static double number(Map<String, String> args, String key, String fallback) {
        String v = args.getOrDefault(key, fallback);
        try {
            double d = Double.parseDouble(v);
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not a number; pass " + key + "=<number>", e);
        }
    }

    private static int integer(Map<String, String> args, String key, String fallback, int min, int max,
            String what) {
        String v = args.getOrDefault(key, fallback);
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) {
                return i;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(key + ": '" + v + "' is not " + what + "; pass " + key + "=<integer in ["
                + min + ", " + (max == Integer.MAX_VALUE ? "∞" : max) + "]>");
    }
}
