package org.influence4j.io;

import org.influence4j.api.provenance.Provenance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;

/**
 * Sidecar records of result files: the provenance of {@code out.npy} is kept in
 * {@code out.npy.provenance.json} beside it (NumPy and CSV files have no room for it), written
 * atomically after the result.
 */
public final class ProvenanceFiles {

    /** The suffix of a sidecar record. */
    public static final String SUFFIX = ".provenance.json";

    private ProvenanceFiles() {
    }

    /** @return the sidecar path of {@code result}: its name plus {@link #SUFFIX} */
    public static Path sidecar(Path result) {
        return result.resolveSibling(result.getFileName() + SUFFIX);
    }

    /**
     * Writes {@code provenance} as the sidecar of {@code result}, atomically and durably.
     *
     * @throws IOException naming the sidecar file when writing fails
     */
    public static void writeSidecar(Path result, Provenance provenance) throws IOException {
        write(sidecar(result), provenance);
    }

    /** Writes {@code provenance} as JSON to {@code file}, atomically and durably. */
    public static void write(Path file, Provenance provenance) throws IOException {
        AtomicFiles.write(file, (Json.write(provenance.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads a record written by {@link #write}.
     *
     * @return the record, or empty when {@code file} does not exist
     * @throws IOException naming the file when it cannot be read or is not a provenance record
     */
    public static Optional<Provenance> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (Files.size(file) > Json.MAX_LENGTH) {
            throw new IOException("provenance record " + file + " is larger than " + Json.MAX_LENGTH
                    + " bytes; it is not a record written by influence4j");
        }
        try {
            return Optional.of(Provenance.fromJson(Json.parse(Files.readString(file, StandardCharsets.UTF_8)),
                    file.toString()));
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException("provenance record " + file + " is not UTF-8 text", e);
        } catch (IllegalArgumentException e) {
            throw new IOException("provenance record " + file + " is invalid: " + e.getMessage(), e);
        }
    }
}
