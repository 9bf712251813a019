package org.influence4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.provenance.Fingerprints;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.calculators.chunked.ZarrSink;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.training.Checkpoint;
import org.influence4j.calculators.training.Checkpoints;
import org.influence4j.registry.InfluenceSettings;

/**
 * The provenance records of the command line's results ({@link Provenance}): the identity of a run
 * — influence4j and backend versions, the command, the SHA-256 of the model file(s) and of every
 * data file with the options that say how to read them, and for the influence-function commands the
 * method, curvature, λ and the configured solver settings — and its diagnostics (the influence
 * model's full configuration and its solver diagnostics). Batch size and thread count are left out
 * of the identity: they change only the rounding, so a store may be resumed with other values.
 */
final class RunRecords {

    /** The remedy the command line gives when a record does not match. */
    static final String OVERWRITE = "rerun with --overwrite to replace it, or write to another path";

    private RunRecords() {
    }

    /**
     * @param command the subcommand, e.g. {@code influences}
     * @param spec    the model spec read from {@code input} (its dtype is recorded), or null for TorchScript
     * @return the identity of {@code command} on {@code session}'s backend with {@code input}'s model
     *     and training data
     * @throws IOException naming a file that cannot be read
     */
    static Provenance of(String command, BackendOptions.Session session, ModelInput input, ModelSpec spec)
            throws IOException {
        Provenance p = Provenance.empty()
                .with("influence4j.version", VersionProvider.version())
                .with("command", command)
                .with("backend", session.backend().name())
                .with("backend.version", session.backend().version())
                .with("dtype", spec != null ? spec.dtype().jsonName() : input.dtype);
        p = file(p, "model.spec", input.spec);
        p = file(p, "model.onnx", input.onnx);
        p = file(p, "model.torchscript", input.torchscript);
        if (input.onnx != null || input.torchscript != null) {
            p = p.with("model.loss", input.loss);
        }
        if (input.torchscript != null) {
            p = p.with("model.input_type", input.inputType == null ? "float" : input.inputType);
        }
        p = file(p, "parameters", input.parameters);
        return data(p, "train", input.train, input.trainLabels)
                .with("csv.skip_lines", input.skipLines)
                .with("csv.label_width", input.labelWidth);
    }

    /** @return {@code p} with the method, curvature, λ and the configured solver settings of {@code settings} */
    static Provenance inversion(Provenance p, InfluenceSettings settings) {
        return p.with("method", settings.method().configName())
                .with("curvature", settings.curvature().key())
                .with("lambda", settings.hessianRegularization())
                .withAll("inversion." + settings.method().configName() + ".", settings.methodSettings().asMap());
    }

    /**
     * @param name   the data's name in the record, e.g. {@code test}
     * @param file   a CSV file or array features {@code FILE[:NAME]}, or null
     * @param labels the labels {@code FILE[:NAME]}, or null
     * @return {@code p} with the SHA-256 of the data files (and the array names they are read from)
     */
    static Provenance data(Provenance p, String name, String file, String labels) throws IOException {
        p = arrayFile(p, name, file);
        return arrayFile(p, name + ".labels", labels);
    }

    private static Provenance arrayFile(Provenance p, String name, String spec) throws IOException {
        if (spec == null) {
            return p;
        }
        Path path = Path.of(spec);
        int colon = spec.lastIndexOf(':');
        if (!Files.isRegularFile(path) && colon > 0) {
            p = p.with(name + ".array", spec.substring(colon + 1));
            path = Path.of(spec.substring(0, colon));
        }
        return file(p, name, path);
    }

    private static Provenance file(Provenance p, String name, Path file) throws IOException {
        return file == null ? p : p.with(name + ".sha256", Fingerprints.sha256(file));
    }

    /**
     * @return {@code p} with the checkpoints: their number, their run id(s) and one SHA-256 over every
     *     checkpoint's epoch, learning rate and file digest, in order
     */
    static Provenance checkpoints(Provenance p, TracInCheckpoints loaded) throws IOException {
        StringBuilder lines = new StringBuilder();
        java.util.Set<String> runs = new java.util.TreeSet<>();
        for (Checkpoint c : loaded.checkpoints()) {
            lines.append(c.epoch()).append(':').append(c.learningRate()).append(':')
                    .append(Fingerprints.sha256(c.file())).append('\n');
            Provenance run = Checkpoints.readRun(c.file());
            runs.add(run == null ? "unknown" : run.runId());
        }
        return p.with("checkpoints.count", loaded.size())
                .with("checkpoints.runs", String.join(",", runs))
                .with("checkpoints.sha256", Fingerprints.sha256(lines.toString()));
    }

    /** @return {@code p} with the influence model's configuration and its solver diagnostics */
    static Provenance finished(Provenance p, InfluenceFunctionModel influence) {
        return p.withDiagnostic("influence", influence.configuration())
                .withDiagnostic("solver", influence.diagnostics());
    }

    /**
     * Refuses to resume a Zarr store of another run before anything is computed
     * ({@link ZarrSink#requireResumable}; the sink checks again when it opens).
     *
     * @throws ProvenanceMismatchException naming the store, every differing field and {@code --overwrite}
     */
    static void requireResumable(Path store, Provenance record) throws IOException {
        try {
            ZarrSink.requireResumable(store, record);
        } catch (ProvenanceMismatchException e) {
            throw new ProvenanceMismatchException("--output: " + e.what(), e.differences(), OVERWRITE);
        }
    }
}
