package org.influence4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.CsvDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.DType;
import org.influence4j.backend.pytorch.PtTorchScriptModel;
import org.influence4j.api.model.ParameterFiles;
import picocli.CommandLine.Option;

/**
 * Where a command's model and data come from: a {@link ModelSpec} JSON file with a parameter file
 * ({@code .safetensors} or {@code .npy}, see {@link ParameterFiles}), and numeric CSV files
 * whose last {@code --label-width} columns are the labels ({@link CsvDataSource}, which reports a
 * ragged row or a non-numeric cell with its line and column).
 */
final class ModelInput {

    @Option(names = "--spec", description = "Model spec JSON (see README, \"bring your own model\"); or --torchscript.")
    Path spec;

    @Option(names = "--torchscript", description = "A TorchScript .pt model instead of --spec/--parameters (djl-pytorch backend).")
    Path torchscript;

    @Option(names = "--loss", description = "Loss of a --torchscript model: mse, softmax_cross_entropy or binary_logistic.")
    String loss;

    @Option(names = "--dtype", defaultValue = "float32", description = "Parameter dtype of a --torchscript model (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--parameters", description = "Trained parameters (.safetensors or .npy), e.g. from `influence4j train`.")
    Path parameters;

    @Option(names = "--train", required = true, description = "Training data CSV (features, then labels; .gz allowed).")
    Path train;

    @Option(names = "--skip-lines", defaultValue = "0", description = "Header lines to skip in every CSV file.")
    int skipLines;

    @Option(names = "--label-width", defaultValue = "1", description = "Label columns at the end of each CSV row (default: 1).")
    int labelWidth;

    /** @return the parsed spec, or {@code null} for a {@code --torchscript} model */
    ModelSpec readSpec() throws IOException {
        if ((spec == null) == (torchscript == null)) {
            throw new IllegalArgumentException("--spec or --torchscript: give exactly one of them");
        }
        if (torchscript != null) {
            requireFile(torchscript, "--torchscript");
            if (loss == null) {
                throw new IllegalArgumentException("--loss: a --torchscript model needs its loss, e.g. --loss"
                        + " softmax_cross_entropy");
            }
            return null;
        }
        requireFile(spec, "--spec");
        try {
            return ModelSpec.fromJson(Files.readString(spec));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--spec " + spec + ": " + e.getMessage(), e);
        }
    }

    /** @return the parameters for {@code modelSpec} (checked against its layout) */
    double[] readParameters(ModelSpec modelSpec) throws IOException {
        if (parameters == null) {
            throw new IllegalArgumentException("--parameters: missing; give the trained parameters (.safetensors or .npy)");
        }
        requireFile(parameters, "--parameters");
        try {
            return ParameterFiles.read(parameters, modelSpec);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--parameters: " + e.getMessage(), e);
        }
    }

    /**
     * @param modelSpec the spec from {@link #readSpec()} ({@code null} for TorchScript)
     * @param inputDim  features per sample of the data
     * @return the model on {@code backend}: the spec with its parameters, or the TorchScript module
     *     with the chosen loss
     */
    TwiceDifferentiable open(Backend backend, ModelSpec modelSpec, int inputDim) throws IOException {
        if (modelSpec != null) {
            return backend.createModel(modelSpec, readParameters(modelSpec));
        }
        if (parameters != null) {
            throw new IllegalArgumentException("--parameters: a --torchscript model carries its own parameters");
        }
        return PtTorchScriptModel.load(backend, torchscript, inputDim, Loss.parse(loss), DType.parse(dtype));
    }

    /**
     * @return the CSV at {@code file}, checked against {@code modelSpec}
     * @throws IllegalArgumentException naming {@code option} and the file when it is missing, empty,
     *     ragged or has a non-numeric cell (with its line and column)
     */
    Batch read(Path file, String option, ModelSpec modelSpec) throws IOException {
        requireFile(file, option);
        if (skipLines < 0 || labelWidth < 1) {
            throw new IllegalArgumentException("--skip-lines must be >= 0 and --label-width >= 1");
        }
        Batch batch;
        try {
            batch = CsvDataSource.open(file, skipLines, labelWidth).readAll();
        } catch (IOException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
        if (modelSpec != null) {
            modelSpec.validate(batch, option + " " + file);
        }
        return batch;
    }

    static void requireFile(Path file, String option) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + ": file " + file + " does not exist");
        }
    }
}
