package org.influence4j.calculators.tracin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.calculators.training.Checkpoint;
import org.influence4j.calculators.training.Checkpoints;

/**
 * The checkpoints of a TracIn computation, loaded and validated once: each checkpoint's parameters
 * (kept on the Java heap, C·p doubles) and learning rate.
 */
public final class TracInCheckpoints {

    private final List<Checkpoint> checkpoints;
    private final List<double[]> parameters;

    private TracInCheckpoints(List<Checkpoint> checkpoints, List<double[]> parameters) {
        this.checkpoints = List.copyOf(checkpoints);
        this.parameters = parameters;
    }

    /**
     * Loads every checkpoint with {@code loader} and checks it against {@code spec}.
     *
     * @throws IllegalArgumentException naming {@code checkpoints} when the list is empty, a loaded vector
     *     has the wrong number of parameters or non-finite values
     * @throws UncheckedIOException naming the file when a checkpoint is missing or corrupt
     */
    public static TracInCheckpoints load(List<Checkpoint> checkpoints, ModelSpec spec, CheckpointLoader loader) {
        if (checkpoints == null || checkpoints.isEmpty()) {
            throw new IllegalArgumentException("checkpoints: need at least one checkpoint");
        }
        if (spec == null || loader == null) {
            throw new IllegalArgumentException("spec and loader must not be null; use CheckpointLoader.DEFAULT");
        }
        return load(checkpoints, spec.numParameters(), c -> loader.load(c, spec));
    }

    /** Reads one checkpoint's θ. */
    @FunctionalInterface
    private interface Reader {
        double[] read(Checkpoint checkpoint) throws IOException;
    }

    private static TracInCheckpoints load(List<Checkpoint> checkpoints, int numParameters, Reader reader) {
        List<double[]> params = new ArrayList<>();
        for (Checkpoint c : checkpoints) {
            if (c == null) {
                throw new IllegalArgumentException("checkpoints: contains null");
            }
            double[] theta;
            try {
                theta = reader.read(c);
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoint " + c.file() + " could not be loaded: " + e.getMessage(), e);
            }
            if (theta == null || theta.length != numParameters) {
                throw new IllegalArgumentException("checkpoints: " + c.file() + " has "
                        + (theta == null ? "no" : Integer.toString(theta.length)) + " parameters but the model has "
                        + numParameters + "; the checkpoint belongs to another model");
            }
            for (double v : theta) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("checkpoints: " + c.file() + " contains NaN or infinite parameters");
                }
            }
            params.add(theta.clone());
        }
        return new TracInCheckpoints(checkpoints, params);
    }

    /**
     * Every checkpoint of a directory written by {@link Checkpoints#write} (learning rates from the
     * files' metadata), in epoch order; they must belong to one training run
     * ({@link Checkpoints#requireOneRun}).
     *
     * @throws UncheckedIOException naming the directory or file when listing or loading fails
     * @throws org.influence4j.api.provenance.ProvenanceMismatchException if the checkpoints belong to
     *     different runs
     */
    public static TracInCheckpoints fromDirectory(Path directory, ModelSpec spec, CheckpointLoader loader) {
        return fromDirectory(directory, spec, loader, false);
    }

    /**
     * As {@link #fromDirectory(Path, ModelSpec, CheckpointLoader)}; with {@code allowMixedRuns} the
     * checkpoints of different runs are summed over as asked, without the run check.
     */
    public static TracInCheckpoints fromDirectory(Path directory, ModelSpec spec, CheckpointLoader loader,
                                                  boolean allowMixedRuns) {
        return load(list(directory, allowMixedRuns), spec, loader);
    }

    /**
     * Every checkpoint of a directory laid out as {@link Checkpoints#write} writes them (learning
     * rates from the files' metadata), in epoch order, each a safetensors {@code state_dict} read by
     * parameter name into {@code layout} ({@link ParameterFiles#read(Path, List)}): the layout of a
     * model that has no spec of its parameters, e.g. {@code TwiceDifferentiable.parameterLayout()}
     * of a TorchScript module. Tensors the layout does not name (buffers) are not read. They must
     * belong to one training run unless {@code allowMixedRuns} ({@link Checkpoints#requireOneRun}).
     *
     * @throws UncheckedIOException naming the directory, or the file and the parameter when a
     *     checkpoint lacks a parameter or holds it in another shape
     * @throws org.influence4j.api.provenance.ProvenanceMismatchException if the checkpoints belong to
     *     different runs and {@code allowMixedRuns} is false
     */
    public static TracInCheckpoints fromDirectory(Path directory, List<ParameterInfo> layout, boolean allowMixedRuns) {
        if (layout == null || layout.isEmpty()) {
            throw new IllegalArgumentException("layout: must name at least one parameter");
        }
        ParameterInfo last = layout.get(layout.size() - 1);
        return load(list(directory, allowMixedRuns), last.offset() + last.size(),
                c -> ParameterFiles.read(c.file(), layout));
    }

    private static List<Checkpoint> list(Path directory, boolean allowMixedRuns) {
        List<Checkpoint> list;
        try {
            list = Checkpoints.list(directory);
            if (!allowMixedRuns) {
                Checkpoints.requireOneRun(list);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint directory " + directory + " could not be read: " + e.getMessage(), e);
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("directory: " + directory + " holds no *.safetensors checkpoints");
        }
        return list;
    }

    /**
     * Parameter files in the given order with one learning rate each (epochs are numbered 1, 2, ...).
     *
     * @throws IllegalArgumentException when the counts differ or a learning rate is negative
     */
    public static TracInCheckpoints fromFiles(List<Path> files, double[] learningRates, ModelSpec spec,
                                              CheckpointLoader loader) {
        if (files == null || learningRates == null || files.size() != learningRates.length) {
            throw new IllegalArgumentException("learningRates: need one learning rate per file, got "
                    + (learningRates == null ? "null" : learningRates.length) + " for "
                    + (files == null ? "null" : files.size()) + " files");
        }
        List<Checkpoint> list = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            list.add(new Checkpoint(files.get(i), learningRates[i], i + 1));
        }
        return load(list, spec, loader);
    }

    /** Drains {@code checkpoints} (e.g. a lazily produced sequence) and loads them. */
    public static TracInCheckpoints fromIterator(Iterator<Checkpoint> checkpoints, ModelSpec spec,
                                                 CheckpointLoader loader) {
        if (checkpoints == null) {
            throw new IllegalArgumentException("checkpoints: must not be null");
        }
        List<Checkpoint> list = new ArrayList<>();
        checkpoints.forEachRemaining(list::add);
        return load(list, spec, loader);
    }

    /** @return the number of checkpoints C */
    public int size() {
        return checkpoints.size();
    }

    /** @return the checkpoints, in order */
    public List<Checkpoint> checkpoints() {
        return checkpoints;
    }

    /** @return η_c */
    public double learningRate(int c) {
        return checkpoints.get(c).learningRate();
    }

    /** @return a copy of θ_c */
    public double[] parameters(int c) {
        return parameters.get(c).clone();
    }

    double[] parametersView(int c) {
        return parameters.get(c);
    }

    @Override
    public String toString() {
        return "TracInCheckpoints[" + checkpoints.size() + "]";
    }
}
