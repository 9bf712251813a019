package org.influence4j.calculators.attribution;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.influence4j.api.DType;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.io.ProvenanceFiles;
import org.influence4j.api.provenance.ProvenanceMismatchException;

/**
 * Where {@link FirstOrderInfluenceCalculator} keeps the influence vectors {@code [n, p]} of one
 * training source: on the Java heap for the last source used (by identity) and, with
 * {@link VectorCache#DISK}, in an {@code .npy} file read back when present and written atomically
 * when computed. Each file has a provenance sidecar ({@link ProvenanceFiles}) that says what the
 * vectors were computed from (model, parameters, data, influence method and its settings); a file is
 * read back only when its record equals the current one, otherwise
 * {@link ProvenanceMismatchException} names the differing fields. Not thread-safe.
 */
final class InfluenceVectorStore {

    private final VectorCache mode;
    private final Path file;
    private DataSource source;
    private double[] vectors;

    /** @param file the cache file for {@link VectorCache#DISK}, else unused */
    InfluenceVectorStore(VectorCache mode, Path file) {
        this.mode = mode;
        this.file = file;
    }

    /** @return whether the options keep vectors at all */
    boolean enabled() {
        return mode != VectorCache.NONE;
    }

    /**
     * @param compute computes the vectors {@code [n, p]} row-major when neither memory nor disk has them
     * @return the vectors of {@code train}, from memory, the disk cache or {@code compute}
     */
    double[] vectors(DataSource train, int p, DType dtype, Supplier<double[]> compute, Supplier<Provenance> record) {
        double[] held = held(train);
        if (held != null) {
            return held;
        }
        if (mode == VectorCache.DISK && Files.exists(file)) {
            return load(train, file, p, record.get());
        }
        double[] all = compute.get();
        hold(train, all);
        if (mode == VectorCache.DISK) {
            save(file, all, train.size(), p, dtype, record.get());
        }
        return all;
    }

    /** @return the vectors held in memory for {@code train}, or null */
    double[] held(DataSource train) {
        return source == train ? vectors : null;
    }

    /** Holds {@code all} as the vectors of {@code train}. */
    void hold(DataSource train, double[] all) {
        source = train;
        vectors = all;
    }

    /** Drops what is held in memory. */
    void clear() {
        source = null;
        vectors = null;
    }

    /**
     * Writes {@code all} ({@code [n, p]}) as an {@code .npy} file with its provenance sidecar, atomically.
     *
     * @throws UncheckedIOException naming the file when writing fails
     */
    static void save(Path file, double[] all, long n, int p, DType dtype, Provenance record) {
        try {
            Npy.write(file, new HostArray(all, new long[] {n, p}, dtype));
            ProvenanceFiles.writeSidecar(file, record);
        } catch (IOException e) {
            throw new UncheckedIOException("influence vectors could not be written to " + file + ": " + e, e);
        }
    }

    /**
     * Reads vectors written by {@link #save} and holds them for {@code train}, after checking that
     * their sidecar record equals {@code record}.
     *
     * @throws UncheckedIOException naming the file when it is missing or unreadable
     * @throws IllegalArgumentException naming the file when its shape is not {@code [n, p]}
     * @throws ProvenanceMismatchException naming the differing fields, or a missing record
     */
    double[] load(DataSource train, Path from, int p, Provenance record) {
        HostArray array;
        try {
            Optional<Provenance> recorded = ProvenanceFiles.read(ProvenanceFiles.sidecar(from));
            String what = "the influence-vector file " + from;
            if (recorded.isEmpty()) {
                throw new ProvenanceMismatchException(what, List.of("it has no provenance record "
                        + ProvenanceFiles.sidecar(from).getFileName() + " (written by another tool or an older"
                        + " influence4j)"));
            }
            record.requireSameRun(what, recorded.get());
            array = Npy.read(from);
        } catch (IOException e) {
            throw new UncheckedIOException("influence vectors could not be read from " + from + ": " + e, e);
        }
        long[] shape = array.shape();
        if (shape.length != 2 || shape[0] != train.size() || shape[1] != p) {
            throw new IllegalArgumentException("file: " + from + " holds an array of shape " + Arrays.toString(shape)
                    + ", not [" + train.size() + ", " + p + "]; it was saved for other data or another model");
        }
        hold(train, array.data());
        return array.data();
    }
}
