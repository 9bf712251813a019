package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The subcommands on the breast-cancer logistic regression, written to CSV files as a user would
 * have them: train, influences (bit for bit equal to the Java API, .npy checked by an independent
 * reader following NumPy's format rules), self-influence, top-k, validate, and bad input
 * ({@code compare}: {@link CompareCommandTest}).
 */
class SubcommandsTest {

    @TempDir
    static Path dir;

    static Path spec;
    static Path trainCsv;
    static Path testCsv;
    static Path parameters;
    static ModelSpec modelSpec;
    static Batch train;
    static Batch test;

    @BeforeAll
    static void writeInputsAndTrain() throws IOException {
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        train = data.slice(0, 400);
        test = data.slice(400, 410);
        modelSpec = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        spec = dir.resolve("spec.json");
        Files.writeString(spec, modelSpec.toJson());
        trainCsv = writeCsv(dir.resolve("train.csv"), train);
        testCsv = writeCsv(dir.resolve("test.csv"), test);
        parameters = dir.resolve("params.safetensors");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("train", "--spec", spec.toString(), "--train",
                trainCsv.toString(), "--optimizer", "newton", "--l2", "0.01", "-o", parameters.toString());
        assertEquals(0, run.exitCode(), run.err());
    }

    static Path writeCsv(Path file, Batch batch) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < batch.size(); i++) {
            for (int j = 0; j < batch.numFeatures(); j++) {
                sb.append(batch.x()[i * batch.numFeatures() + j]).append(',');
            }
            sb.append(batch.y()[i]).append('\n');
        }
        Files.writeString(file, sb.toString());
        return file;
    }

    private static String[] query(String command, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of(command, "--spec", spec.toString(), "--parameters",
                parameters.toString(), "--train", trainCsv.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** @return the Direct influences (λ = 0.01) of the trained model from the Java API, {@code [m, n]} */
    private static double[] directInfluences() throws IOException {
        Backend backend = BackendDiscovery.load().require("djl-pytorch");
        try (TwiceDifferentiable model = backend.createModel(modelSpec, ParameterFiles.read(parameters, modelSpec));
             TensorScope scope = backend.newScope();
             DirectInfluence influence = new DirectInfluence(model, new InfluenceOptions(0.01, 512))) {
            influence.fit(new InMemoryDataSource(train));
            return influence.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
        }
    }

    @Test
    void influencesIntoAChunkedZarrStoreEqualTheJavaApiAndResume() throws IOException {
        Path store = dir.resolve("influences.zarr");
        String[] args = query("influences", "--test", testCsv.toString(), "--method", "direct", "--lambda", "0.01",
                "--chunk-size", "7", "-o", store.toString());
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), run.err());
        double[] expected = directInfluences();
        // Zarr v2 read independently: metadata, then every block as raw little-endian <f8 of 7 x 7
        // (edge blocks padded), C order
        String zarray = Files.readString(store.resolve(".zarray")).replaceAll("\\s", "");
        assertTrue(zarray.contains("\"shape\":[10,400]"), zarray);
        assertTrue(zarray.contains("\"chunks\":[7,7]"), zarray);
        assertTrue(zarray.contains("\"dtype\":\"<f8\""), zarray);
        assertTrue(zarray.contains("\"order\":\"C\""), zarray);
        assertTrue(zarray.contains("\"compressor\":null"), zarray);
        int m = test.size();
        int n = train.size();
        double scale = java.util.Arrays.stream(expected).map(Math::abs).max().orElseThrow();
        for (int bi = 0; bi * 7 < m; bi++) {
            for (int bj = 0; bj * 7 < n; bj++) {
                java.nio.ByteBuffer block = java.nio.ByteBuffer.wrap(Files.readAllBytes(store.resolve(bi + "." + bj)))
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                assertEquals(7 * 7 * 8, block.capacity());
                for (int a = 0; a < 7 && bi * 7 + a < m; a++) {
                    for (int b = 0; b < 7 && bj * 7 + b < n; b++) {
                        double v = block.getDouble((a * 7 + b) * 8);
                        assertEquals(expected[(bi * 7 + a) * n + bj * 7 + b], v, 1e-12 * scale,
                                "block " + bi + "." + bj + " entry " + a + "," + b);
                    }
                }
            }
        }
        // an interrupted run resumes: only the missing block is computed again, with the same bytes
        byte[] before = Files.readAllBytes(store.resolve("1.3"));
        Files.delete(store.resolve("1.3"));
        run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("115 complete blocks of an earlier run kept"), run.out());
        assertArrayEquals(before, Files.readAllBytes(store.resolve("1.3")));
        run = Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(), "--chunk-size", "0", "-o",
                store.toString()));
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("--chunk-size"), run.err());
    }

    /** A λ below 0 or not finite is refused in one line naming {@code --lambda}, before anything is written. */
    @Test
    void aNegativeOrNonFiniteLambdaNamesTheOption() {
        Path out = dir.resolve("refused-lambda.npy");
        for (String lambda : new String[] {"-1", "NaN", "Infinity"}) {
            Influence4jCommandTest.Run run = Influence4jCommandTest.run(query("self-influence", "--lambda", lambda, "-o",
                    out.toString()));
            assertEquals(1, run.exitCode(), run.err());
            assertEquals("influence4j: --lambda: must be a finite number >= 0, got " + Double.parseDouble(lambda),
                    run.err().strip());
            assertFalse(Files.exists(out), "nothing is written");
        }
    }

    @Test
    void influencesReproduceTheJavaApiBitForBitAndTheNpyFollowsNumpysFormat() throws IOException {
        Path out = dir.resolve("influences.npy");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(),
                "--method", "direct", "--lambda", "0.01", "-o", out.toString()));
        assertEquals(0, run.exitCode(), run.err());

        double[] expected = directInfluences();
        NpyFile npy = NpyFile.read(out);
        assertEquals("<f8", npy.descr);
        assertEquals(false, npy.fortranOrder);
        assertArrayEquals(new long[] {test.size(), train.size()}, npy.shape);
        assertEquals(expected.length, npy.values.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(npy.values[i]),
                    "element " + i);
        }

        Path csv = dir.resolve("influences.csv");
        run = Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(), "--lambda", "0.01", "-o",
                csv.toString()));
        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals(test.size(), lines.size());
        String[] first = lines.get(0).split(",");
        assertEquals(train.size(), first.length);
        for (int j = 0; j < first.length; j++) {
            assertEquals(expected[j], Double.parseDouble(first[j]), 0.0);
        }

        Path top = dir.resolve("top.csv");
        run = Influence4jCommandTest.run(query("top-k", "--test", testCsv.toString(), "--lambda", "0.01", "-k", "3",
                "-o", top.toString()));
        assertEquals(0, run.exitCode(), run.err());
        List<String> rows = Files.readAllLines(top);
        assertEquals("test,kind,rank,train,influence", rows.get(0));
        assertEquals(1 + test.size() * 6, rows.size());
        int best = 0;
        int worst = 0;
        for (int j = 1; j < train.size(); j++) {
            best = expected[j] > expected[best] ? j : best;
            worst = expected[j] < expected[worst] ? j : worst;
        }
        assertEquals("0,proponent,1," + best + "," + expected[best], rows.get(1));
        assertEquals("0,opponent,1," + worst + "," + expected[worst], rows.get(4));
    }

    @Test
    void selfInfluenceIsTheDiagonalOfTheTrainOnTrainInfluences() throws IOException {
        Path out = dir.resolve("self.npy");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(query("self-influence", "--lambda", "0.01",
                "--batch-size", "128", "-o", out.toString()));
        assertEquals(0, run.exitCode(), run.err());
        NpyFile npy = NpyFile.read(out);
        assertArrayEquals(new long[] {train.size()}, npy.shape);
        Backend backend = BackendDiscovery.load().require("djl-pytorch");
        try (TwiceDifferentiable model = backend.createModel(modelSpec, ParameterFiles.read(parameters, modelSpec));
             TensorScope scope = backend.newScope();
             DirectInfluence influence = new DirectInfluence(model, 0.01)) {
            influence.fit(new InMemoryDataSource(train));
            Batch some = train.slice(0, 5);
            double[] block = influence.influences(some, some, InfluenceMode.UP, scope).toDoubleArray();
            for (int i = 0; i < 5; i++) {
                assertEquals(block[i * 5 + i], npy.values[i], 1e-10 * Math.abs(block[i * 5 + i]));
                assertTrue(npy.values[i] > 0);
            }
        }
    }

    @Test
    void validateComparesWithLeaveOneOutRetraining() {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(query("validate", "--test", testCsv.toString(),
                "--lambda", "0.01", "--test-points", "1", "-k", "10"));
        assertEquals(0, run.exitCode(), run.err());
        Matcher r = Pattern.compile("Pearson r = ([-0-9.]+)").matcher(run.out());
        assertTrue(r.find(), run.out());
        assertTrue(Double.parseDouble(r.group(1)) > 0.9, run.out());
    }

    @Test
    void trainWritesCheckpointsWithLearningRates() throws IOException {
        Path ckpt = dir.resolve("ckpt");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("train", "--spec", spec.toString(), "--train",
                trainCsv.toString(), "--optimizer", "sgd", "--lr", "0.1", "--lr-decay", "0.5", "--epochs", "2",
                "--checkpoints", ckpt.toString(), "-o", dir.resolve("sgd.npy").toString());
        assertEquals(0, run.exitCode(), run.err());
        var list = org.influence4j.calculators.training.Checkpoints.list(ckpt);
        assertEquals(2, list.size());
        assertEquals(0.1, list.get(0).learningRate(), 1e-15);
        assertEquals(0.05, list.get(1).learningRate(), 1e-15);
        assertEquals(modelSpec.numParameters(), NpyFile.read(dir.resolve("sgd.npy")).values.length);
    }

    @Test
    void optionsComeFromAConfigurationFileAndDashDOverrides() throws IOException {
        Path viaOption = dir.resolve("via-option.npy");
        assertEquals(0, Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(), "--lambda", "0.01",
                "-o", viaOption.toString())).exitCode());
        Path properties = dir.resolve("influence4j.properties");
        Files.writeString(properties, "influence.hessian.regularization=0.01\ninfluence.inversion.method=direct\n");
        Path viaFile = dir.resolve("via-file.npy");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(),
                "--config", properties.toString(), "-o", viaFile.toString()));
        assertEquals(0, run.exitCode(), run.err());
        Path viaD = dir.resolve("via-d.npy");
        run = Influence4jCommandTest.run(query("influences", "--test", testCsv.toString(),
                "-Dinfluence.hessian.regularization=0.01", "-o", viaD.toString()));
        assertEquals(0, run.exitCode(), run.err());
        assertArrayEquals(NpyFile.read(viaOption).values, NpyFile.read(viaFile).values);
        assertArrayEquals(NpyFile.read(viaOption).values, NpyFile.read(viaD).values);
        expectFailure(1, "influence.inversion.method", query("influences", "--test", testCsv.toString(),
                "-Dinfluence.inversion.method=magic", "-o", "x.npy"));
    }

    @Test
    void badInputEndsWithOneLineNamingTheProblem() throws IOException {
        expectFailure(1, "does not exist", "influences", "--spec", dir.resolve("nope.json").toString(), "--parameters",
                parameters.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(), "-o", "x.npy");
        expectFailure(1, "does not exist", query("influences", "--test", dir.resolve("missing.csv").toString(),
                "-o", "x.npy"));

        Path other = dir.resolve("other.json");
        Files.writeString(other, ModelSpec.builder(30).dense(2).loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64)
                .build().toJson());
        expectFailure(1, "--parameters", "influences", "--spec", other.toString(), "--parameters", parameters.toString(),
                "--train", trainCsv.toString(), "--test", testCsv.toString(), "-o", "x.npy");

        Path ragged = dir.resolve("ragged.csv");
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(testCsv));
        lines.set(2, lines.get(2).substring(0, lines.get(2).lastIndexOf(',')));
        Files.write(ragged, lines);
        String message = expectFailure(1, "line 3", query("influences", "--test", ragged.toString(), "-o", "x.npy"));
        assertTrue(message.contains("ragged.csv"), message);

        Path text = dir.resolve("text.csv");
        lines = new java.util.ArrayList<>(Files.readAllLines(testCsv));
        String[] cells = lines.get(4).split(",");
        cells[6] = "abc";
        lines.set(4, String.join(",", cells));
        Files.write(text, lines);
        message = expectFailure(1, "line 5", query("influences", "--test", text.toString(), "-o", "x.npy"));
        assertTrue(message.contains("column 7") && message.contains("abc"), message);

        expectFailure(1, "magic", query("influences", "--test", testCsv.toString(), "--method", "magic", "-o", "x.npy"));
        expectFailure(1, "no-such-backend", query("influences", "--test", testCsv.toString(), "--backend",
                "no-such-backend", "-o", "x.npy"));
        expectFailure(2, "--test", query("influences", "-o", "x.npy"));
        expectFailure(2, "bogus", "bogus");
    }

    static String expectFailure(int code, String fragment, String... args) {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(code, run.exitCode(), run.out() + run.err());
        String err = run.err().strip();
        if (code == 1) {
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("influence4j: "), err);
        }
        assertTrue(err.contains(fragment), "expected '" + fragment + "' in: " + err);
        assertTrue(!err.contains("\tat "), err);
        return err;
    }

    /** An independent .npy reader following NumPy's format description (versions 1.0-3.0). */
    static final class NpyFile {
        String descr;
        boolean fortranOrder;
        long[] shape;
        double[] values;

        static NpyFile read(Path file) throws IOException {
            byte[] bytes = Files.readAllBytes(file);
            assertEquals((byte) 0x93, bytes[0]);
            assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
            int major = bytes[6];
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int headerLength;
            int start;
            if (major == 1) {
                headerLength = Short.toUnsignedInt(buf.getShort(8));
                start = 10;
            } else {
                headerLength = buf.getInt(8);
                start = 12;
            }
            String header = new String(bytes, start, headerLength, StandardCharsets.ISO_8859_1);
            int dataStart = start + headerLength;
            assertEquals(0, dataStart % 64, "NumPy aligns the data to 64 bytes");
            assertTrue(header.endsWith("\n"), header);
            NpyFile npy = new NpyFile();
            Matcher d = Pattern.compile("'descr':\\s*'([^']+)'").matcher(header);
            assertTrue(d.find(), header);
            npy.descr = d.group(1);
            Matcher f = Pattern.compile("'fortran_order':\\s*(True|False)").matcher(header);
            assertTrue(f.find(), header);
            npy.fortranOrder = f.group(1).equals("True");
            Matcher s = Pattern.compile("'shape':\\s*\\(([^)]*)\\)").matcher(header);
            assertTrue(s.find(), header);
            npy.shape = java.util.Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty())
                    .mapToLong(Long::parseLong).toArray();
            long count = 1;
            for (long dim : npy.shape) {
                count *= dim;
            }
            int width = npy.descr.equals("<f8") ? 8 : npy.descr.equals("<f4") ? 4 : -1;
            assertTrue(width > 0, "unexpected dtype " + npy.descr);
            assertEquals(dataStart + count * width, bytes.length, "data length");
            npy.values = new double[(int) count];
            for (int i = 0; i < count; i++) {
                npy.values[i] = width == 8 ? buf.getDouble(dataStart + 8 * i) : buf.getFloat(dataStart + 4 * i);
            }
            return npy;
        }
    }
}
