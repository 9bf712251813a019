package org.influence4j.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.io.ProvenanceFiles;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.calculators.training.Checkpoints;
import org.influence4j.calculators.training.LbfgsOptions;
import org.influence4j.calculators.training.LbfgsTrainer;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.training.TrainingResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j train}: fits a {@link ModelSpec} on CSV or array data ({@link ModelInput}) and
 * writes its parameters ({@link ParameterFiles}: {@code .safetensors} with PyTorch names and a
 * layer graph's buffers, or a flat {@code .npy}) with their provenance record ({@link RunRecords}); {@code --parameters} gives the starting point
 * (and, from a state_dict, the buffers).
 * Optimizers: {@code newton} and {@code lbfgs} (to the optimum of {@code mean loss + (l2/2)‖θ‖²};
 * convex models), {@code adam} and {@code sgd} (minibatches, optional checkpoints with their
 * learning rates and the run's id in {@code --checkpoints}; a folder holding another run's
 * checkpoints is refused unless {@code --overwrite}).
 */
@Command(name = "train", description = "Fit a model spec on CSV or array data; write parameters (.safetensors or .npy)"
        + " and optional checkpoints.")
final class TrainCommand implements Callable<Integer> {

    @Mixin
    ModelInput input;

    @Mixin
    BackendOptions common;

    @Mixin
    TrainingOptions training;

    @Option(names = "--l2", defaultValue = "0", description = "L2 penalty (default: ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initialisation and the shuffling.")
    long seed;

    @Option(names = "--checkpoints", description = "Folder for checkpoints with learning rates (adam/sgd).")
    Path checkpoints;

    @Option(names = "--overwrite", description = "Delete the checkpoints of another run in --checkpoints first;"
            + " without it such a folder is refused (a rerun of the same run is accepted).")
    boolean overwrite;

    @Option(names = "--checkpoint-every", defaultValue = "1", description = "Epochs between checkpoints (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = {"-o", "--output"}, required = true, description = "Parameter file: .safetensors or .npy.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelSpec modelSpec = input.readSpec();
        double[] given = null;
        if (input.hasParameters()) {
            ParameterFiles.State state = input.readState(modelSpec);
            modelSpec = state.spec();
            given = state.parameters();
        }
        Batch train = input.readTrain(modelSpec);
        TrainingOptions.Algorithm optimizer = training.optimizer;
        if (checkpoints != null && !training.isMinibatch()) {
            throw new IllegalArgumentException("--checkpoints: only adam and sgd write checkpoints");
        }
        if (overwrite && checkpoints == null) {
            throw new IllegalArgumentException("--overwrite: replaces the checkpoints of --checkpoints; give that"
                    + " folder too");
        }
        BackendOptions.Session session = common.session(null);
        double[] initial = training.isMinibatch() ? modelSpec.initialParameters(seed)
                : new double[modelSpec.numParameters()];
        if (given != null) {
            initial = given;
        }
        TrainingResult result;
        ProgressBars bars = new ProgressBars(spec.commandLine().getErr());
        bars.started("train (" + optimizer + ")", 1);
        try (TwiceDifferentiable model = session.backend().createModel(modelSpec, initial)) {
            InMemoryDataSource data = new InMemoryDataSource(train);
            ObjectiveOptions objective = ObjectiveOptions.ofL2(l2).withBatchSize(session.settings().batchSize());
            result = switch (optimizer) {
                case newton -> new NewtonTrainer(NewtonOptions.defaults().withProgress(bars))
                        .train(model, data, objective);
                case lbfgs -> new LbfgsTrainer(LbfgsOptions.defaults().withProgress(bars)).train(model, data, objective);
                case adam, sgd -> {
                    MinibatchOptions options = training.minibatchOptions(seed, l2).withProgress(bars);
                    if (checkpoints != null) {
                        options = options.withCheckpoints(checkpoints, checkpointEvery);
                        if (overwrite) {
                            Checkpoints.deleteAll(checkpoints);
                        }
                    }
                    try {
                        yield new MinibatchTrainer(options).train(model, data);
                    } catch (ProvenanceMismatchException e) {
                        throw e.withRemedy("rerun with --overwrite to delete them, or choose another folder");
                    }
                }
            };
            bars.step(1);
        } finally {
            bars.finished();
        }
        ParameterFiles.write(output, modelSpec, result.parameters(), Map.of("optimizer", optimizer.name(),
                "l2", Double.toString(l2)));
        ProvenanceFiles.writeSidecar(output, RunRecords.of("train", session, input, modelSpec)
                .with("training", training.describe(seed)).with("l2", l2)
                .withDiagnostic("objective", result.loss()).withDiagnostic("gradient_norm", result.gradientNorm())
                .withDiagnostic("iterations", (long) result.iterations()));
        spec.commandLine().getOut().printf("trained %s on %d samples: objective %.6g, |grad| %.3g, %d %s; wrote %s%s%n",
                optimizer, train.size(), result.loss(), result.gradientNorm(), result.iterations(),
                training.isMinibatch() ? "steps" : "iterations", output,
                result.checkpoints().isEmpty() ? "" : " and " + result.checkpoints().size() + " checkpoints to "
                        + checkpoints);
        return 0;
    }
}
