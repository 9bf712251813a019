package org.influence4j.calculators.training;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import org.influence4j.api.internal.Json;
import org.influence4j.io.SafeTensors;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;

/**
 * Reads and writes training checkpoints: one {@code .safetensors} file per saved epoch, named
 * {@code checkpoint-epoch-NNNNN.safetensors}, holding the parameters under their PyTorch names
 * ({@link ParameterFiles}) and the string metadata {@code learning_rate}, {@code epoch} and
 * {@code step}. Files are written atomically (temporary file + rename), so a failed write leaves
 * no partial checkpoint behind.
 *
 * <p><b>Runs.</b> A checkpoint written with a {@link Provenance} also holds its run id
 * ({@value #RUN_ID}) and the run's identity as JSON ({@value #RUN}), so that checkpoints of two runs
 * are never mixed: {@link #requireOneRun} refuses a list of checkpoints of different runs (TracIn
 * sums over them), and {@link #requireFolderOfRun} refuses to write a run into a folder that holds
 * checkpoints of another one. Checkpoints without a run id (e.g. saved by PyTorch) belong to an
 * unknown run: a list of them only is accepted, a mix of known and unknown is not.
 */
public final class Checkpoints {

    /** Metadata key of the learning rate. */
    public static final String LEARNING_RATE = "learning_rate";
    /** Metadata key of the epoch. */
    public static final String EPOCH = "epoch";
    /** Metadata key of the optimizer step count. */
    public static final String STEP = "step";

    /** Metadata key of the run id ({@link Provenance#runId()}). */
    public static final String RUN_ID = "influence4j_run";
    /** Metadata key of the run's provenance identity, as JSON. */
    public static final String RUN = "influence4j_provenance";

    private static final String SUFFIX = ".safetensors";
    private static final String PREFIX = "checkpoint-epoch-";

    private Checkpoints() {
    }

    /** @return the file name used for {@code epoch} */
    public static String fileName(int epoch) {
        return String.format(Locale.ROOT, PREFIX + "%05d%s", epoch, SUFFIX);
    }

    /**
     * Writes the parameters of one epoch atomically into {@code directory} (created if missing).
     *
     * @return the written checkpoint
     * @throws IOException naming the file when writing fails (nothing is left behind)
     * @throws IllegalArgumentException if the parameters do not fit {@code spec}
     */
    public static Checkpoint write(Path directory, ModelSpec spec, double[] parameters, double learningRate,
                                   int epoch, long step) throws IOException {
        return write(directory, spec, parameters, learningRate, epoch, step, null);
    }

    /**
     * Writes the parameters of one epoch of the run {@code run} atomically into {@code directory}
     * (created if missing), with the run's id and identity in the metadata.
     *
     * @param run the run's provenance, or null to record none
     * @return the written checkpoint
     * @throws IOException naming the file when writing fails (nothing is left behind)
     * @throws IllegalArgumentException if the parameters do not fit {@code spec}
     */
    public static Checkpoint write(Path directory, ModelSpec spec, double[] parameters, double learningRate,
                                   int epoch, long step, Provenance run) throws IOException {
        Checkpoint checkpoint = new Checkpoint(directory.resolve(fileName(epoch)), learningRate, epoch);
        if (step < 0) {
            throw new IllegalArgumentException("step: must be >= 0, got " + step);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(LEARNING_RATE, Double.toString(learningRate));
        metadata.put(EPOCH, Integer.toString(epoch));
        metadata.put(STEP, Long.toString(step));
        if (run != null) {
            metadata.put(RUN_ID, run.runId());
            metadata.put(RUN, Json.write(run.toJson().get("identity")));
        }
        try {
            Files.createDirectories(directory);
            ParameterFiles.write(checkpoint.file(), spec, parameters, metadata);
        } catch (IOException e) {
            throw new IOException("checkpoint " + checkpoint.file() + " could not be written: " + e, e);
        }
        return checkpoint;
    }

    /**
     * Lists the checkpoints of a directory in epoch order, reading each file's metadata.
     *
     * @throws IOException naming the directory if it is missing, or the file whose metadata is
     *     missing, malformed or duplicates another file's epoch
     */
    public static List<Checkpoint> list(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new NoSuchFileException(directory.toString(), null,
                    "checkpoint directory does not exist or is not a directory");
        }
        List<Checkpoint> out = new ArrayList<>();
        Map<Integer, Path> byEpoch = new HashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                if (file.getFileName().toString().startsWith(".") || !Files.isRegularFile(file)) {
                    continue;
                }
                Checkpoint c = readInfo(file);
                Path other = byEpoch.put(c.epoch(), file);
                if (other != null) {
                    throw new IOException("checkpoint files " + other + " and " + file + " both hold epoch "
                            + c.epoch() + "; keep one checkpoint per epoch in " + directory);
                }
                out.add(c);
            }
        }
        out.sort(Comparator.comparingInt(Checkpoint::epoch));
        return out;
    }

    /**
     * Refuses checkpoints of different runs (see the class comment).
     *
     * @throws ProvenanceMismatchException naming the two runs (their ids and differing fields) or the
     *     checkpoints without a run id
     * @throws IOException naming a file whose metadata cannot be read
     */
    public static void requireOneRun(List<Checkpoint> checkpoints) throws IOException {
        Checkpoint first = null;
        Provenance firstRun = null;
        for (Checkpoint c : checkpoints) {
            Provenance run = readRun(c.file());
            if (first == null) {
                first = c;
                firstRun = run;
            } else if (!java.util.Objects.equals(runId(firstRun), runId(run))) {
                throw new ProvenanceMismatchException("the checkpoints " + first.file().getFileName() + " (run "
                        + runId(firstRun) + ") and " + c.file().getFileName() + " (run " + runId(run) + ")",
                        differences(run, firstRun), "give the checkpoints of one training run");
            }
        }
    }

    /**
     * Refuses to write the run {@code run} into a folder that holds checkpoints of another run (or of an
     * unknown one); checkpoints of the same run (a rerun after an interruption) are accepted, and the
     * temporary files of an interrupted write are removed.
     *
     * @throws ProvenanceMismatchException naming the folder and the differing fields
     * @throws IOException naming a file that cannot be read
     */
    public static void requireFolderOfRun(Path directory, Provenance run) throws IOException {
        if (!Files.isDirectory(directory)) {
            return;
        }
        removeTemporaries(directory);
        for (Checkpoint c : list(directory)) {
            Provenance other = readRun(c.file());
            if (!run.runId().equals(runId(other))) {
                throw new ProvenanceMismatchException("the checkpoint folder " + directory + " (" + c.file().getFileName()
                        + ", run " + runId(other) + ")", differences(run, other),
                        "delete its checkpoints or choose another folder");
            }
        }
    }

    /**
     * Deletes every checkpoint file ({@code checkpoint-epoch-*.safetensors}) of {@code directory} and
     * the temporary files of interrupted writes, leaving any other file alone.
     *
     * @return the number of checkpoints deleted
     * @throws IOException when listing or deleting fails
     */
    public static int deleteAll(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        removeTemporaries(directory);
        int deleted = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*" + SUFFIX)) {
            for (Path file : files) {
                Files.delete(file);
                deleted++;
            }
        }
        return deleted;
    }

    /** Removes {@code .checkpoint-epoch-*.tmp} files that a killed write left behind. */
    private static void removeTemporaries(Path directory) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "." + PREFIX + "*.tmp")) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }

    private static String runId(Provenance run) {
        return run == null ? "unknown" : run.runId();
    }

    private static List<String> differences(Provenance run, Provenance other) {
        if (run == null || other == null) {
            return List.of("one of them has no run id in its metadata (not written by `influence4j train`)");
        }
        List<String> d = run.differences(other);
        return d.isEmpty() ? List.of("their run ids differ") : d;
    }

    /**
     * @return the run a checkpoint belongs to (its identity from the metadata), or null when it records none
     * @throws IOException naming the file when the metadata cannot be read or the record is malformed
     */
    public static Provenance readRun(Path file) throws IOException {
        Map<String, String> metadata = readMetadata(file);
        String json = metadata.get(RUN);
        if (json == null) {
            return null;
        }
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("format", Provenance.FORMAT);
        try {
            record.put("identity", Json.parse(json));
            Provenance run = Provenance.fromJson(record, file.toString());
            if (!run.runId().equals(metadata.get(RUN_ID))) {
                throw new IOException("checkpoint " + file + ": its run id " + metadata.get(RUN_ID) + " does not match"
                        + " its recorded run (" + run.runId() + "); the metadata was edited");
            }
            return run;
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + file + " has a malformed run record: " + e.getMessage(), e);
        }
    }

    /**
     * Reads one checkpoint file's metadata.
     *
     * @throws IOException naming the file if it is unreadable or lacks {@code learning_rate}/{@code epoch}
     */
    public static Checkpoint readInfo(Path file) throws IOException {
        Map<String, String> metadata = readMetadata(file);
        String lr = metadata.get(LEARNING_RATE);
        String epoch = metadata.get(EPOCH);
        if (lr == null || epoch == null) {
            throw new IOException("checkpoint " + file + " has no '" + (lr == null ? LEARNING_RATE : EPOCH)
                    + "' metadata; it was not written by Checkpoints.write");
        }
        try {
            return new Checkpoint(file, Double.parseDouble(lr.trim()), Integer.parseInt(epoch.trim()));
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + file + " has bad metadata " + metadata + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a checkpoint's parameters for {@code spec}.
     *
     * @throws IOException naming the file when it is missing or does not match the spec
     */
    public static double[] load(Checkpoint checkpoint, ModelSpec spec) throws IOException {
        return ParameterFiles.read(checkpoint.file(), spec);
    }

    /**
     * Reads the {@code __metadata__} string map of a safetensors file (empty if there is none), with
     * the bounded reader of {@link SafeTensors#readMetadata}.
     *
     * @throws IOException naming the file when it is not a readable safetensors file
     */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new NoSuchFileException(file.toString(), null, "checkpoint file does not exist or is not readable");
        }
        try {
            return SafeTensors.readMetadata(file);
        } catch (IOException e) {
            throw new IOException("checkpoint " + e.getMessage(), e);
        }
    }
}
