package org.influence4j.calculators.training;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
import org.influence4j.api.io.Json;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterFiles;

/**
 * Reads and writes training checkpoints: one {@code .safetensors} file per saved epoch, named
 * {@code checkpoint-epoch-NNNNN.safetensors}, holding the parameters under their PyTorch names
 * ({@link ParameterFiles}) and the string metadata {@code learning_rate}, {@code epoch} and
 * {@code step}. Files are written atomically (temporary file + rename), so a failed write leaves
 * no partial checkpoint behind.
 */
public final class Checkpoints {

    /** Metadata key of the learning rate. */
    public static final String LEARNING_RATE = "learning_rate";
    /** Metadata key of the epoch. */
    public static final String EPOCH = "epoch";
    /** Metadata key of the optimizer step count. */
    public static final String STEP = "step";

    private static final String SUFFIX = ".safetensors";

    private Checkpoints() {
    }

    /** @return the file name used for {@code epoch} */
    public static String fileName(int epoch) {
        return String.format(Locale.ROOT, "checkpoint-epoch-%05d%s", epoch, SUFFIX);
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
        Checkpoint checkpoint = new Checkpoint(directory.resolve(fileName(epoch)), learningRate, epoch);
        if (step < 0) {
            throw new IllegalArgumentException("step: must be >= 0, got " + step);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(LEARNING_RATE, Double.toString(learningRate));
        metadata.put(EPOCH, Integer.toString(epoch));
        metadata.put(STEP, Long.toString(step));
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
     * Reads the {@code __metadata__} string map of a safetensors file (empty if there is none).
     *
     * @throws IOException naming the file when it is not a readable safetensors file
     */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new NoSuchFileException(file.toString(), null, "checkpoint file does not exist or is not readable");
        }
        Object parsed;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] lengthBytes = in.readNBytes(8);
            if (lengthBytes.length < 8) {
                throw new IOException("checkpoint " + file + " is not a safetensors file (shorter than 8 bytes)");
            }
            long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength <= 0 || headerLength > Math.min(Integer.MAX_VALUE, Files.size(file) - 8)) {
                throw new IOException("checkpoint " + file + " is not a safetensors file (header length "
                        + headerLength + ")");
            }
            byte[] header = in.readNBytes((int) headerLength);
            parsed = Json.parse(new String(header, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + file + " has a malformed safetensors header: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> root)) {
            throw new IOException("checkpoint " + file + " has a safetensors header that is not a JSON object");
        }
        Object meta = root.get("__metadata__");
        Map<String, String> out = new LinkedHashMap<>();
        if (meta instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        } else if (meta != null) {
            throw new IOException("checkpoint " + file + ": __metadata__ is not a JSON object");
        }
        return out;
    }
}
