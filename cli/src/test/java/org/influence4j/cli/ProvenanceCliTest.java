package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.internal.Json;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provenance on the command line (the trust issue, items 1-2): every result file has a record of
 * what produced it; a Zarr store, a checkpoint folder and TracIn's checkpoints are never mixed across
 * runs — each refusal is exit 1 with one line naming the differing fields and the option that starts
 * afresh, and nothing is written.
 */
class ProvenanceCliTest {

    @TempDir
    static Path dir;

    static Path spec;
    static Path trainCsv;
    static Path testCsv;
    static Path parameters;
    static Path otherParameters;

    @BeforeAll
    static void writeInputsAndTrain() throws IOException {
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        ModelSpec modelSpec = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        spec = Files.writeString(dir.resolve("spec.json"), modelSpec.toJson());
        trainCsv = SubcommandsTest.writeCsv(dir.resolve("train.csv"), data.slice(0, 200));
        testCsv = SubcommandsTest.writeCsv(dir.resolve("test.csv"), data.slice(400, 410));
        parameters = train("params.safetensors", "0.01");
        otherParameters = train("other.safetensors", "0.1");
    }

    private static Path train(String name, String l2) {
        Path out = dir.resolve(name);
        ok(Influence4jCommandTest.run("train", "--spec", spec.toString(), "--train", trainCsv.toString(),
                "--optimizer", "newton", "--l2", l2, "-o", out.toString()));
        return out;
    }

    private static String[] influences(Path store, Path params, String... extra) {
        List<String> args = new ArrayList<>(List.of("influences", "--spec", spec.toString(), "--parameters",
                params.toString(), "--train", trainCsv.toString(), "--test", testCsv.toString(), "--chunk-size", "50",
                "-o", store.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static Influence4jCommandTest.Run ok(Influence4jCommandTest.Run run) {
        assertEquals(0, run.exitCode(), run.err());
        return run;
    }

    /**
     * @return the error line, after checking exit 1, one error line (progress bars aside), no stack
     *     trace, and that it names every {@code expected} phrase
     */
    private static String refused(Influence4jCommandTest.Run run, String... expected) {
        assertEquals(1, run.exitCode(), run.out() + run.err());
        List<String> messages = run.err().lines().filter(l -> l.startsWith("influence4j:")).toList();
        assertEquals(1, messages.size(), run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
        String err = messages.get(0);
        for (String e : expected) {
            assertTrue(err.contains(e), "'" + e + "' not in: " + err);
        }
        return err;
    }

    @Test
    void aZarrStoreOfAnotherRunIsRefusedAndOverwriteStartsAfresh() throws IOException {
        Path store = dir.resolve("mix.zarr");
        ok(Influence4jCommandTest.run(influences(store, parameters, "--method", "direct", "--lambda", "0.1")));
        Files.delete(store.resolve("0.3"));
        Files.delete(store.resolve(".blocks").resolve("0.3"));

        refused(Influence4jCommandTest.run(influences(store, parameters, "--method", "direct", "--lambda", "5.0")),
                "mix.zarr", "lambda is 0.1 there but 5.0 now", "--overwrite");
        refused(Influence4jCommandTest.run(influences(store, parameters, "--method", "cg", "--lambda", "0.1")),
                "method is direct there but cg now", "--overwrite");
        refused(Influence4jCommandTest.run(influences(store, otherParameters, "--method", "direct", "--lambda", "0.1")),
                "parameters.sha256 is ", "--overwrite");
        refused(Influence4jCommandTest.run(influences(store, parameters, "--method", "direct", "--lambda", "0.1",
                "--curvature", "gauss-newton")), "curvature is hessian there but gauss-newton now");
        assertFalse(Files.exists(store.resolve("0.3")), "nothing was written by a refused run");

        ok(Influence4jCommandTest.run(influences(store, parameters, "--method", "direct", "--lambda", "5.0",
                "--overwrite")));
        Path fresh = dir.resolve("fresh.zarr");
        ok(Influence4jCommandTest.run(influences(fresh, parameters, "--method", "direct", "--lambda", "5.0")));
        assertEquals(files(fresh), files(store));
        for (String name : files(fresh)) {
            if (!name.equals(".zattrs")) {
                assertArrayEquals(Files.readAllBytes(fresh.resolve(name)), Files.readAllBytes(store.resolve(name)), name);
            }
        }
        Map<?, ?> record = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(store.resolve(".zattrs"))))
                .get("influence4j");
        assertEquals("5.0", ((Map<?, ?>) record.get("identity")).get("lambda"));
        assertEquals(Boolean.TRUE, ((Map<?, ?>) ((Map<?, ?>) record.get("diagnostics")).get("solver"))
                .get("converged"));
        // the same run resumes
        Files.delete(store.resolve("0.2"));
        Influence4jCommandTest.Run resumed = ok(Influence4jCommandTest.run(influences(store, parameters, "--method",
                "direct", "--lambda", "5.0")));
        assertTrue(resumed.out().contains("complete blocks of an earlier run kept"), resumed.out());
        assertArrayEquals(Files.readAllBytes(fresh.resolve("0.2")), Files.readAllBytes(store.resolve("0.2")));
    }

    @Test
    void everyResultFileHasAProvenanceRecord() throws Exception {
        Path out = dir.resolve("self.npy");
        ok(Influence4jCommandTest.run("self-influence", "--spec", spec.toString(), "--parameters",
                parameters.toString(), "--train", trainCsv.toString(), "--method", "cg", "--lambda", "0.1", "-o",
                out.toString()));
        Map<?, ?> record = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("self.npy.provenance.json")));
        assertEquals("influence4j-provenance/1", record.get("format"));
        Map<?, ?> identity = (Map<?, ?>) record.get("identity");
        assertEquals(VersionProvider.version(), identity.get("influence4j.version"));
        assertEquals("self-influence", identity.get("command"));
        assertEquals("djl-pytorch", identity.get("backend"));
        assertFalse(((String) identity.get("backend.version")).isBlank());
        assertEquals("cg", identity.get("method"));
        assertEquals("0.1", identity.get("lambda"));
        assertEquals("hessian", identity.get("curvature"));
        assertEquals(sha256(spec), identity.get("model.spec.sha256"));
        assertEquals(sha256(parameters), identity.get("parameters.sha256"));
        assertEquals(sha256(trainCsv), identity.get("train.sha256"));
        assertEquals("float64", identity.get("dtype"));
        Map<?, ?> diagnostics = (Map<?, ?>) record.get("diagnostics");
        Map<?, ?> solver = (Map<?, ?>) diagnostics.get("solver");
        assertEquals(Boolean.TRUE, solver.get("converged"));
        assertTrue((Long) solver.get("max_iterations") > 0, solver.toString());
        assertTrue(solver.get("max_relative_residual") instanceof Double, solver.toString());
        assertTrue(((Map<?, ?>) diagnostics.get("influence")).get("solver").toString()
                .startsWith("ConjugateGradientSolver"), diagnostics.toString());

        Path topK = dir.resolve("top.csv");
        ok(Influence4jCommandTest.run("top-k", "--spec", spec.toString(), "--parameters", parameters.toString(),
                "--train", trainCsv.toString(), "--test", testCsv.toString(), "-k", "3", "--lambda", "0.1", "-o",
                topK.toString()));
        Map<?, ?> topRecord = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(
                dir.resolve("top.csv.provenance.json")))).get("identity");
        assertEquals("3", topRecord.get("k"));
        assertEquals(sha256(testCsv), topRecord.get("test.sha256"));
        Map<?, ?> trained = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("params.safetensors.provenance.json")));
        assertEquals("train", ((Map<?, ?>) trained.get("identity")).get("command"));
        assertTrue((Double) ((Map<?, ?>) trained.get("diagnostics")).get("gradient_norm") < 1e-6, trained.toString());
    }

    @Test
    void checkpointFoldersAndTracinNeverMixRuns() throws IOException {
        Path folder = dir.resolve("ckpt");
        String[] first = sgd(folder, "1", "2");
        ok(Influence4jCommandTest.run(first));
        List<String> before = files(folder);
        refused(Influence4jCommandTest.run(sgd(folder, "2", "2")), "checkpoint folder", "seed is 1 there but 2 now",
                "--overwrite");
        assertEquals(before, files(folder));
        ok(Influence4jCommandTest.run(first)); // a rerun of the same run is accepted

        Path other = dir.resolve("ckpt-other");
        ok(Influence4jCommandTest.run(sgd(other, "2", "3")));
        Files.copy(other.resolve("checkpoint-epoch-00003.safetensors"),
                folder.resolve("checkpoint-epoch-00003.safetensors"));
        List<String> tracin = new ArrayList<>(List.of("tracin", "--spec", spec.toString(), "--train",
                trainCsv.toString(), "--checkpoints", folder.toString(), "--what", "self-influence", "-o",
                dir.resolve("tracin.npy").toString()));
        refused(Influence4jCommandTest.run(tracin.toArray(String[]::new)), "checkpoint-epoch-00001.safetensors (run ",
                "seed is 1 there but 2 now", "--allow-mixed-runs");
        assertFalse(Files.exists(dir.resolve("tracin.npy")));
        tracin.add("--allow-mixed-runs");
        ok(Influence4jCommandTest.run(tracin.toArray(String[]::new)));
        Map<?, ?> identity = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(
                dir.resolve("tracin.npy.provenance.json")))).get("identity");
        assertEquals("3", identity.get("checkpoints.count"));
        assertEquals(2, identity.get("checkpoints.runs").toString().split(",").length);

        List<String> overwrite = new ArrayList<>(List.of(sgd(folder, "2", "2")));
        overwrite.add("--overwrite");
        ok(Influence4jCommandTest.run(overwrite.toArray(String[]::new)));
        assertEquals(List.of("checkpoint-epoch-00001.safetensors", "checkpoint-epoch-00002.safetensors"),
                files(folder).stream().filter(f -> f.startsWith("checkpoint")).toList());
    }

    private static String[] sgd(Path folder, String seed, String epochs) {
        return new String[] {"train", "--spec", spec.toString(), "--train", trainCsv.toString(), "--optimizer", "sgd",
            "--epochs", epochs, "--lr", "0.05", "--seed", seed, "--checkpoints", folder.toString(), "-o",
            dir.resolve("sgd-" + seed + ".safetensors").toString()};
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static List<String> files(Path folder) throws IOException {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile).map(p -> folder.relativize(p).toString()).sorted().toList();
        }
    }
}
