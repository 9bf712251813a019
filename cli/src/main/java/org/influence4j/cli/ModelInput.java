package org.influence4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.CsvDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterFiles;
import picocli.CommandLine.Option;

/**
 * Where a command's model and data come from: a {@link ModelSpec} JSON file with a parameter file
 * ({@code .safetensors} or {@code .npy}, see {@link ParameterFiles}), and numeric CSV files
 * whose last {@code --label-width} columns are the labels ({@link CsvDataSource}, which reports a
 * ragged row or a non-numeric cell with its line and column).
 */
final class ModelInput {

    @Option(names = "--spec", required = true, description = "Model spec JSON (see README, \"bring your own model\").")
    Path spec;

    @Option(names = "--parameters", description = "Trained parameters (.safetensors or .npy), e.g. from `influence4j train`.")
    Path parameters;

    @Option(names = "--train", required = true, description = "Training data CSV (features, then labels; .gz allowed).")
    Path train;

    @Option(names = "--skip-lines", defaultValue = "0", description = "Header lines to skip in every CSV file.")
    int skipLines;

    @Option(names = "--label-width", defaultValue = "1", description = "Label columns at the end of each CSV row (default: 1).")
    int labelWidth;

    /** @return the parsed spec */
    ModelSpec readSpec() throws IOException {
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

    /** @return the model built on {@code backend} from the spec and the parameters */
    TwiceDifferentiable model(Backend backend) throws IOException {
        ModelSpec s = readSpec();
        return backend.createModel(s, readParameters(s));
    }

    /** @return the CSV at {@code file}, checked against {@code modelSpec} */
    Batch read(Path file, String option, ModelSpec modelSpec) throws IOException {
        requireFile(file, option);
        if (skipLines < 0 || labelWidth < 1) {
            throw new IllegalArgumentException("--skip-lines must be >= 0 and --label-width >= 1");
        }
        Batch batch = CsvDataSource.open(file, skipLines, labelWidth).readAll();
        modelSpec.validate(batch, option + " " + file);
        return batch;
    }

    static void requireFile(Path file, String option) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + ": file " + file + " does not exist");
        }
    }
}
