package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.influence4j.api.DType;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with a real killed process (issue 14): the command line runs as a child JVM (the test
 * class path and the backend plugin folders of {@code -Dinfluence4j.backends}), is killed with
 * SIGKILL ({@link Process#destroyForcibly()}) half way through its work, and is run again in a child
 * JVM; the result must equal an uninterrupted run (made in this JVM, the same code on the same
 * backend) byte for byte.
 * <ul>
 *   <li>{@code influences -o x.zarr}: killed once a tenth of the blocks are recorded; every block the
 *       killed run left with a completion record equals the uninterrupted run's, and the rerun keeps
 *       them, computes the rest and ends with the same store (blocks and records).</li>
 *   <li>{@code train --checkpoints DIR}: killed after a few checkpoints; every checkpoint the killed
 *       run left is complete (equal to the uninterrupted run's), and the rerun into the same folder
 *       writes the same checkpoints and parameters.</li>
 * </ul>
 * Skipped, with the reason, when the backend plugin folders are missing (they are made by the
 * backend modules' {@code package} phase, which runs before this module in {@code mvn install}).
 */
class KillAndResumeTest {

    private static final long TIMEOUT_S = 180;

    @TempDir
    static Path dir;

    static Path spec;
    static Path parameters;
    static Path train;
    static Path test;

    @BeforeAll
    static void inputs() throws IOException {
        String backends = System.getProperty("influence4j.backends");
        Assumptions.assumeTrue(backends != null && !backends.isBlank(),
                "skipped: -Dinfluence4j.backends is not set (run through Maven, which sets the backend plugin folders)");
        boolean any = false;
        for (String folder : backends.split(File.pathSeparator)) {
            any |= Files.isDirectory(Path.of(folder));
        }
        Assumptions.assumeTrue(any, "skipped: no backend plugin folder of " + backends + " exists; run `mvn package`"
                + " on the backend modules first");
        ModelSpec model = ModelSpec.builder(8).dense(6).activation(Activation.TANH).dense(3)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        spec = dir.resolve("spec.json");
        model.write(spec);
        parameters = dir.resolve("params.safetensors");
        ParameterFiles.write(parameters, model, model.initialParameters(5), null);
        train = csv(dir.resolve("train.csv"), 2400, 1);
        test = csv(dir.resolve("test.csv"), 8, 2);
    }

    private static Path csv(Path file, int rows, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            double sum = 0;
            for (int j = 0; j < 8; j++) {
                double v = random.nextGaussian();
                sum += v * (j % 3 - 1);
                sb.append(String.format(Locale.ROOT, "%.6f,", v));
            }
            sb.append(sum > 0.5 ? 2 : sum < -0.5 ? 0 : 1).append('\n');
        }
        return Files.writeString(file, sb.toString());
    }

    /** A child JVM running the command line, its output in files. */
    record Child(Process process, Path out, Path err) {
        String output() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8);
        }
    }

    static Child start(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-Dai.djl.offline=true",
                "-Dinfluence4j.backends=" + System.getProperty("influence4j.backends"),
                "-cp", System.getProperty("java.class.path"), Influence4jCommand.class.getName()));
        command.addAll(List.of(args));
        Path out = dir.resolve(name + ".out");
        Path err = dir.resolve(name + ".err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new Child(process, out, err);
    }

    /** Runs the command line to its end in a child JVM. */
    static String run(String name, String... args) throws Exception {
        Child child = start(name, args);
        assertTrue(child.process().waitFor(TIMEOUT_S, TimeUnit.SECONDS), name + " did not finish: " + child.output());
        assertEquals(0, child.process().exitValue(), name + ": " + child.output());
        return child.output();
    }

    /** Runs the command line to its end in this JVM (the uninterrupted reference runs). */
    static String runHere(String name, String... args) {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), name + ": " + run.out() + run.err());
        return run.out();
    }

    /** Starts the command line, waits until {@code progress} reaches {@code atLeast}, and kills it with SIGKILL. */
    static void runAndKill(String name, IntSupplier progress, int atLeast, String... args) throws Exception {
        Child child = start(name, args);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (progress.getAsInt() < atLeast) {
            assertTrue(child.process().isAlive(), name + " ended before it could be killed half way (make the job"
                    + " larger): " + child.output());
            assertTrue(System.nanoTime() < deadline, name + " made no progress: " + child.output());
            Thread.sleep(5);
        }
        child.process().destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
        assertTrue(child.process().waitFor(30, TimeUnit.SECONDS));
        assertTrue(child.process().exitValue() != 0, name + " was killed");
    }

    static int count(Path folder, String glob) {
        if (!Files.isDirectory(folder)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(folder)) {
            return (int) files.filter(p -> p.getFileSystem().getPathMatcher("glob:" + glob).matches(p.getFileName()))
                    .count();
        } catch (IOException e) {
            return 0; // the folder is being written; count again
        }
    }

    /** @return the names of the regular files of {@code folder}, without or with the hidden ones */
    static TreeSet<String> files(Path folder, boolean hidden) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> hidden || !n.startsWith(".")).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static void assertSameFiles(Path expected, Path actual, boolean hidden) throws IOException {
        assertEquals(files(expected, hidden), files(actual, hidden), actual + " holds the files of " + expected);
        for (String name : files(expected, hidden)) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(actual.resolve(name)),
                    actual.resolve(name) + " equals " + expected.resolve(name) + " byte for byte");
        }
    }

    @Test
    void aZarrRunKilledHalfWayResumesToTheSameBytes() throws Exception {
        Path reference = dir.resolve("reference.zarr");
        Path store = dir.resolve("killed.zarr");
        List<String> query = List.of("influences", "--spec", spec.toString(), "--parameters", parameters.toString(),
                "--train", train.toString(), "--test", test.toString(), "--method", "direct", "--lambda", "1",
                "--chunk-size", "4", "--threads", "1");
        int blocks = 2 * 600;
        runHere("zarr-reference", concat(query, "-o", reference.toString()));
        assertEquals(blocks, count(reference.resolve(".blocks"), "*"));

        Path records = store.resolve(".blocks");
        runAndKill("zarr-killed", () -> count(records, "[0-9]*"), blocks / 10, concat(query, "-o", store.toString()));
        int recorded = count(records, "[0-9]*");
        assertTrue(recorded < blocks, "killed half way: " + recorded + " of " + blocks + " blocks recorded");
        for (String key : files(records, false)) { // every recorded block is complete and right
            assertArrayEquals(Files.readAllBytes(reference.resolve(key)), Files.readAllBytes(store.resolve(key)), key);
        }

        String out = run("zarr-resumed", concat(query, "-o", store.toString()));
        Matcher kept = Pattern.compile("(\\d+) complete blocks of an earlier run kept").matcher(out);
        assertTrue(kept.find() && Integer.parseInt(kept.group(1)) >= recorded, out);
        assertSameFiles(reference, store, true);
        assertSameFiles(reference.resolve(".blocks"), records, true);
        assertFalse(files(store, true).stream().anyMatch(n -> n.endsWith(".tmp")), "temporary files are removed");
    }

    @Test
    void trainingKilledHalfWayLeavesOnlyCompleteCheckpointsAndReruns() throws Exception {
        Path referenceFolder = dir.resolve("reference-checkpoints");
        Path folder = dir.resolve("killed-checkpoints");
        List<String> train = List.of("train", "--spec", spec.toString(), "--train", KillAndResumeTest.train.toString(),
                "--optimizer", "sgd", "--epochs", "40", "--minibatch", "16", "--lr", "0.05", "--seed", "3",
                "--threads", "1", "--checkpoint-every", "1");
        Path referenceOut = dir.resolve("reference-trained.safetensors");
        runHere("train-reference", concat(train, "--checkpoints", referenceFolder.toString(), "-o",
                referenceOut.toString()));
        assertEquals(40, files(referenceFolder, false).size());

        Path out = dir.resolve("trained.safetensors");
        runAndKill("train-killed", () -> count(folder, "checkpoint-epoch-*.safetensors"), 3,
                concat(train, "--checkpoints", folder.toString(), "-o", out.toString()));
        TreeSet<String> left = files(folder, false);
        assertTrue(left.size() >= 3 && left.size() < 40, "killed half way: " + left);
        for (String name : left) { // no checkpoint is partial
            assertArrayEquals(Files.readAllBytes(referenceFolder.resolve(name)), Files.readAllBytes(folder.resolve(name)),
                    name);
        }
        assertFalse(Files.exists(out), "no parameters are written by the killed run");

        run("train-rerun", concat(train, "--checkpoints", folder.toString(), "-o", out.toString()));
        assertSameFiles(referenceFolder, folder, false);
        assertArrayEquals(Files.readAllBytes(referenceOut), Files.readAllBytes(out));
    }

    private static String[] concat(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }
}
