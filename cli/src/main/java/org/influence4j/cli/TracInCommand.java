package org.influence4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.DType;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.RandProjOptions;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCPFastRandProj;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code influence4j tracin}: TracIn scores from the checkpoints of a training run (a folder written
 * by {@code influence4j train --optimizer sgd|adam --checkpoints DIR}: one
 * {@code checkpoint-epoch-NNNNN.safetensors} per saved epoch with its learning rate in the file's
 * metadata, read by {@link TracInCheckpoints#fromDirectory}).
 *
 * <p>Score of training point z on test point t: {@code Σ_c η_c ⟨∇θℓ(t; θ_c), ∇θℓ(z; θ_c)⟩} over the
 * checkpoints θ_c with learning rates η_c; positive = proponent, as for the influence commands.
 * Variants: {@code cp} ({@link TracInCP}, all parameters or those named by {@code --layers}),
 * {@code fast} ({@link TracInCPFast}, the last dense layer's weight from factorised gradients) and
 * {@code randproj} ({@link TracInCPFastRandProj}, fast with the gradient projected to
 * {@code --projection-dim} entries per checkpoint by {@code --projection factor-pca} (default) or
 * {@code kronecker} (Captum's Gaussian matrices); 0 = none, then equal to fast). {@code --what} picks the result:
 * self-influence {@code [n]}, influences {@code [m, n]} (.npy or .csv, as {@link Output#write}) or
 * top-k (CSV, as {@link Output#writeTopK}). The model is the {@code --spec} or {@code --onnx};
 * {@code --parameters} is optional, because the scores depend only on the checkpoints. A
 * {@code --torchscript} module takes {@code --variant cp}; its checkpoints are safetensors files
 * keyed by the module's {@code named_parameters()} names (what {@code save_file(model.state_dict())}
 * writes; buffers are not read, the module's own are used, as for {@code --onnx}).
 */
@Command(name = "tracin", description = "TracIn scores from training checkpoints: self-influence [n], influences [m, n]"
        + " (.npy or .csv) or top-k proponents/opponents (CSV).")
final class TracInCommand implements Callable<Integer> {

    /** The TracIn calculators. */
    enum Variant { cp, fast, randproj }

    /** The result written. */
    enum Query {
        INFLUENCES("influences"), SELF_INFLUENCE("self-influence"), TOP_K("top-k");

        private final String option;

        Query(String option) {
            this.option = option;
        }

        @Override
        public String toString() {
            return option;
        }
    }

    @Mixin
    ModelInput input;

    @Mixin
    BackendOptions common;

    @Option(names = "--checkpoints", required = true, description = "Checkpoint folder written by `influence4j train"
            + " --checkpoints DIR` (checkpoint-epoch-*.safetensors with their learning rates).")
    Path checkpoints;

    @Option(names = "--what", required = true, converter = QueryConverter.class,
            description = "self-influence ([n]), influences ([m, n], needs --test) or top-k (CSV, needs --test).")
    Query what;

    @Option(names = "--test", description = "Test data (influences and top-k): a CSV file, or array features as for"
            + " --train with --test-labels.")
    String test;

    @Option(names = "--test-labels", description = "Labels of array --test features, as --train-labels.")
    String testLabels;

    @Option(names = "--variant", defaultValue = "cp", description = "cp (per-sample gradients of all or --layers"
            + " parameters), fast (last dense layer's weight, factorised) or randproj (fast with random projections)"
            + " (default: ${DEFAULT-VALUE}).")
    Variant variant;

    @Option(names = "--layers", split = ",", description = "cp: parameter names to restrict the gradients to, e.g."
            + " 2.weight,2.bias (default: all parameters).")
    List<String> layers;

    @Option(names = "--projection-dim", description = "randproj: dimension of each checkpoint's projected gradient;"
            + " 0 = no projection (the scores of fast).")
    Integer projectionDim;

    @Option(names = "--projection", description = "randproj: factor-pca (leading eigenvectors of the layer's"
            + " factor second moments, default) or kronecker (Captum's seeded Gaussian matrices).")
    String projection;

    @Option(names = "--seed", description = "randproj: seed of the projection matrices (default: 0).")
    Long seed;

    @Option(names = "--include-bias", description = "fast and randproj: include the last dense layer's bias gradient.")
    boolean includeBias;

    @Option(names = "--checkpoint-threads", description = "cp and fast: checkpoints computed at once, each on its own"
            + " thread with its own copy of the model and a share of the backend's --threads; 1 = one after another;"
            + " default: as many as the backend's threads (at most one per checkpoint).")
    Integer checkpointThreads;

    @Option(names = "--allow-mixed-runs", description = "Sum over checkpoints of different training runs (their run"
            + " ids differ); without it such a folder is refused.")
    boolean allowMixedRuns;

    @Mixin
    TopKOptions topK;

    @Option(names = {"-o", "--output"}, required = true, description = "Output file: .npy or .csv (top-k: .csv).")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        InfluenceQuery.Data data = InfluenceQuery.read(input, test, testLabels);
        ModelSpec modelSpec = data.spec();
        if (modelSpec == null && variant != Variant.cp) {
            throw new IllegalArgumentException("--variant " + variant + ": uses the last dense layer's gradient factors,"
                    + " which an opaque --torchscript module does not expose; use --variant cp, or export the module"
                    + " with torch.onnx.export and give --onnx");
        }
        int n = data.train().size();
        if (what == Query.TOP_K) {
            topK.requireAtMost(n);
        }
        // a spec names its parameters, so its checkpoints load before the backend; a TorchScript module names
        // them once loaded (named_parameters()), and the checkpoints load into its layout then
        TracInCheckpoints loaded = modelSpec == null ? null : loadCheckpoints(checkpoints, modelSpec, allowMixedRuns);
        BackendOptions.Session session = common.session(null);
        int batchSize = session.settings().batchSize();
        InMemoryDataSource train = new InMemoryDataSource(data.train());
        try (TwiceDifferentiable model = modelSpec == null ? InfluenceQuery.open(input, session, data)
                : session.backend().createModel(modelSpec, data.parameters() != null ? data.parameters()
                        : loaded.parameters(loaded.size() - 1))) {
            if (loaded == null) {
                loaded = loadCheckpoints(checkpoints, model.parameterLayout(), allowMixedRuns);
            }
            // cp and fast check their arguments here, before any output; randproj indexes the training set
            // when it is built, so it is built under the progress bar
            ProgressBars bars = new ProgressBars(spec.commandLine().getErr());
            TrainingDataAttribution method = variant == Variant.randproj ? null
                    : create(model, loaded, train, batchSize, bars);
            bars.started("tracin " + variant + " " + what + " (" + loaded.size() + " checkpoints)", 1);
            try {
                if (method == null) {
                    method = create(model, loaded, train, batchSize, bars);
                }
                write(method, data, train, loaded.size(), model.spec().dtype(), session,
                        record(session, modelSpec, loaded));
                bars.step(1);
            } finally {
                bars.finished();
            }
        }
        return 0;
    }

    /** @return the identity of this TracIn run: model, data, checkpoints and the variant's settings */
    private Provenance record(BackendOptions.Session session, ModelSpec modelSpec, TracInCheckpoints loaded)
            throws IOException {
        return RunRecords.checkpoints(RunRecords.data(RunRecords.of("tracin", session, input, modelSpec), "test", test,
                testLabels), loaded)
                .with("tracin.variant", variant).with("tracin.result", what.option)
                .with("tracin.layers", layers == null ? "all" : String.join(",", layers))
                .with("tracin.include_bias", includeBias)
                .with("tracin.projection", projection == null ? "default" : projection)
                .with("tracin.projection_seed", seed == null ? 0 : seed)
                .with("tracin.projection_dim", projectionDim == null ? "default" : projectionDim);
    }

    /** Computes the result chosen by {@code --what} and writes it to {@code --output}. */
    private void write(TrainingDataAttribution method, InfluenceQuery.Data data, InMemoryDataSource train,
                       int checkpointCount, DType dtype, BackendOptions.Session session, Provenance record)
            throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        int n = data.train().size();
        switch (what) {
            case SELF_INFLUENCE -> {
                double[] values = method.selfInfluence(train);
                Output.write(output, values, new long[] {n}, dtype, record);
                out.printf("wrote TracIn self-influence [%d] (%s, %d checkpoints) to %s%n", n, variant,
                        checkpointCount, output);
            }
            case INFLUENCES -> {
                Batch testBatch = data.test();
                double[] values;
                try (TensorScope scope = session.backend().newScope();
                     Tensor scores = method.influences(testBatch, data.train(), scope)) {
                    values = scores.toDoubleArray();
                }
                Output.write(output, values, new long[] {testBatch.size(), n}, dtype, record);
                out.printf("wrote TracIn influences [%d, %d] (%s, %d checkpoints) to %s%n", testBatch.size(), n,
                        variant, checkpointCount, output);
            }
            case TOP_K -> {
                List<TopK> parts = new ArrayList<>();
                for (TopKOrder order : topK.orders()) {
                    parts.add(method.topK(data.test(), train, topK.k, order));
                }
                Output.writeTopK(output, parts, record.with("k", topK.k).with("orders", topK.describe()));
                out.printf("wrote the top %d TracIn %s of %d test points (%s, %d checkpoints) to %s%n", topK.k,
                        topK.describe(), data.test().size(), variant, checkpointCount, output);
            }
            default -> throw new IllegalStateException("unknown query " + what);
        }
    }

    /** Rejects options that do not apply to the chosen variant and query, before any work. */
    private void checkOptions() {
        if (layers != null && variant != Variant.cp) {
            throw new IllegalArgumentException("--layers: applies to --variant cp only (fast and randproj use the last"
                    + " dense layer)");
        }
        if ((projectionDim != null || seed != null || projection != null) && variant != Variant.randproj) {
            throw new IllegalArgumentException((projectionDim != null ? "--projection-dim"
                    : projection != null ? "--projection" : "--seed")
                    + ": applies to --variant randproj only");
        }
        if (variant == Variant.randproj && projectionDim == null) {
            throw new IllegalArgumentException("--projection-dim: --variant randproj needs the projection dimension"
                    + " (0 = no projection)");
        }
        if (projection != null) {
            projectionKind();
        }
        if (projectionDim != null && projectionDim < 0) {
            throw new IllegalArgumentException("--projection-dim: must be >= 0 (0 = no projection), got "
                    + projectionDim);
        }
        if (checkpointThreads != null && variant == Variant.randproj) {
            throw new IllegalArgumentException("--checkpoint-threads: applies to --variant cp and fast (randproj"
                    + " indexes the training data once)");
        }
        if (checkpointThreads != null && checkpointThreads < 1) {
            throw new IllegalArgumentException("--checkpoint-threads: must be >= 1 (leave it out for the automatic"
                    + " choice), got " + checkpointThreads);
        }
        if (includeBias && variant == Variant.cp) {
            throw new IllegalArgumentException("--include-bias: applies to --variant fast and randproj (cp includes"
                    + " every parameter named by --layers)");
        }
        if (what == Query.SELF_INFLUENCE && test != null) {
            throw new IllegalArgumentException("--test: self-influence scores the training points; drop --test");
        }
        if (what != Query.SELF_INFLUENCE && test == null) {
            throw new IllegalArgumentException("--test: --what " + what + " needs the test data");
        }
        if (what == Query.TOP_K) {
            topK.check(output);
        } else {
            Output.requireKnownExtension(output);
        }
    }

    private TrainingDataAttribution create(TwiceDifferentiable model, TracInCheckpoints loaded,
                                           InMemoryDataSource train, int batchSize, ProgressBars bars) {
        TracInOptions options = new TracInOptions(layers == null ? List.of() : layers, batchSize, bars,
                checkpointThreads == null ? TracInOptions.AUTOMATIC_THREADS : checkpointThreads);
        return switch (variant) {
            case cp -> {
                try {
                    yield new TracInCP(model, loaded, options);
                } catch (IllegalArgumentException e) {
                    throw cliMessage(e, "--layers: ");
                }
            }
            case fast -> {
                try {
                    yield new TracInCPFast(model, loaded, includeBias, options);
                } catch (IllegalArgumentException e) {
                    throw cliMessage(e, "");
                }
            }
            case randproj -> new TracInCPFastRandProj(model, loaded, train,
                    RandProjOptions.of(projectionDim).withProjection(projectionKind())
                            .withSeed(seed == null ? 0 : seed).withBatchSize(batchSize).withBias(includeBias));
        };
    }

    /**
     * @return {@code e} in the command line's terms: a refused {@code threads} names {@code --checkpoint-threads},
     *     any other message gets {@code prefix} in place of {@code options: }
     */
    private static IllegalArgumentException cliMessage(IllegalArgumentException e, String prefix) {
        String message = e.getMessage();
        if (message.startsWith("threads: ")) {
            return new IllegalArgumentException("--checkpoint-threads: " + message.substring("threads: ".length())
                    .replace("TracInOptions.withThreads(1)", "--checkpoint-threads 1"), e);
        }
        return prefix.isEmpty() ? e : new IllegalArgumentException(prefix + message.replaceFirst("^options: ", ""), e);
    }

    /**
     * Loads the checkpoints of a folder written by {@code train --checkpoints} for {@code modelSpec}.
     *
     * @param allowMixedRuns whether checkpoints of different training runs are accepted
     * @throws IllegalArgumentException naming {@code --checkpoints} when the folder is missing or
     *     empty, or a checkpoint is unreadable or belongs to another model
     * @throws ProvenanceMismatchException naming {@code --allow-mixed-runs} when the checkpoints belong
     *     to different runs
     */
    static TracInCheckpoints loadCheckpoints(Path directory, ModelSpec modelSpec, boolean allowMixedRuns) {
        return loadCheckpoints(directory, () -> TracInCheckpoints.fromDirectory(directory, modelSpec,
                CheckpointLoader.DEFAULT, allowMixedRuns));
    }

    /**
     * Loads the checkpoints of a folder for a model without a spec of its parameters (a TorchScript
     * module): each file a safetensors {@code state_dict}, read by the names of {@code layout}.
     *
     * @throws IllegalArgumentException naming {@code --checkpoints} when the folder is missing or
     *     empty, or naming the checkpoint file and the parameter it lacks or holds in another shape
     * @throws ProvenanceMismatchException naming {@code --allow-mixed-runs} when the checkpoints belong
     *     to different runs
     */
    static TracInCheckpoints loadCheckpoints(Path directory, List<ParameterInfo> layout, boolean allowMixedRuns) {
        return loadCheckpoints(directory, () -> TracInCheckpoints.fromDirectory(directory, layout, allowMixedRuns));
    }

    private static TracInCheckpoints loadCheckpoints(Path directory, Supplier<TracInCheckpoints> loader) {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException("--checkpoints: directory " + directory + " does not exist; write"
                    + " checkpoints with `influence4j train --optimizer sgd --checkpoints DIR`");
        }
        try {
            return loader.get();
        } catch (ProvenanceMismatchException e) {
            throw e.withRemedy("give the folder of one run, or --allow-mixed-runs to sum over them anyway");
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw new IllegalArgumentException("--checkpoints: " + e.getMessage().replaceFirst("^(directory|checkpoints): ",
                    ""), e);
        }
    }

    /** Accepts {@code influences}, {@code self-influence} and {@code top-k}. */
    static final class QueryConverter implements ITypeConverter<Query> {
        @Override
        public Query convert(String value) {
            for (Query q : Query.values()) {
                if (q.option.equals(value)) {
                    return q;
                }
            }
            throw new TypeConversionException("unknown result '" + value + "'; use self-influence, influences or"
                    + " top-k");
        }
    }

    private RandProjOptions.Projection projectionKind() {
        if (projection == null) {
            return RandProjOptions.of(0).projection();
        }
        return switch (projection) {
            case "factor-pca" -> RandProjOptions.Projection.FACTOR_PCA;
            case "kronecker" -> RandProjOptions.Projection.KRONECKER;
            default -> throw new IllegalArgumentException("--projection: factor-pca or kronecker, got " + projection);
        };
    }
}
