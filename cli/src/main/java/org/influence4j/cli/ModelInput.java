package org.influence4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.io.data.ArrayDataSource;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.CsvDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.DType;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.io.ParameterFiles;
import org.influence4j.onnx.OnnxModels;
import picocli.CommandLine.Option;

/**
 * Where a command's model and data come from: a {@link ModelSpec} JSON file (format 1 or a format-2
 * layer graph) with a parameter file ({@code .safetensors} or {@code .npy}, read by
 * {@link ParameterFiles#readState}, so a PyTorch {@code state_dict}'s buffers such as batch-norm
 * running statistics end up in the spec that every later step uses), or a TorchScript module (called
 * on the per-sample shape of the {@code --train} features, float or, with {@code --input-type int64},
 * token ids; its loss and dtype from {@code --loss} and {@code --dtype}); and
 * the data of {@code --train} (and the commands' {@code --test}) in either of two forms:
 * <ul>
 *   <li>a numeric CSV file ({@code .csv}, {@code .csv.gz}, or any other file that is not an array
 *       file and comes without a labels option) whose last {@code --label-width} columns are the labels ({@link CsvDataSource}, which reports
 *       a ragged row or a non-numeric cell with its line and column);</li>
 *   <li>typed arrays ({@link ArrayDataSource}): features {@code .npy}, {@code FILE.npz[:NAME]} or
 *       {@code FILE.safetensors[:NAME]} of shape {@code [n, *input shape]} with the labels
 *       ({@code [n]} or {@code [n, k]}) in {@code --train-labels}/{@code --test-labels}, or in the
 *       features' container as its {@code y} array.</li>
 * </ul>
 */
final class ModelInput {

    private static final String MISSING_PARAMETERS = "--parameters: missing; give the trained parameters"
            + " (.safetensors or .npy)";

    @Option(names = "--spec", description = "Model spec JSON (format 1 or a format-2 layer graph; see README, \"bring"
            + " your own model\"); or --torchscript.")
    Path spec;

    @Option(names = "--torchscript", description = "A TorchScript .pt model instead of --spec/--parameters (a backend"
            + " with capability TORCHSCRIPT: djl-pytorch).")
    Path torchscript;

    @Option(names = "--onnx", description = "An ONNX model from torch.onnx.export instead of --spec: read as a layer"
            + " graph with its weights (every backend); --parameters then loads a checkpoint of the same module by"
            + " name.")
    Path onnx;

    @Option(names = "--loss", description = "Loss of a --torchscript or --onnx model: mse, softmax_cross_entropy or"
            + " binary_logistic.")
    String loss;

    @Option(names = "--dtype", defaultValue = "float32", description = "Dtype of a --torchscript or --onnx model"
            + " (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--input-type", description = "Input of a --torchscript model: float (features in --dtype,"
            + " default) or int64 (token ids, e.g. for an nn.Embedding); its per-sample shape is the --train"
            + " features' shape after n.")
    String inputType;

    private OnnxModels.Imported imported;
    /** The per-sample shape of the data read for a TorchScript model (the first data set read). */
    private long[] torchScriptInput;

    @Option(names = "--parameters", description = "Trained parameters (.safetensors, e.g. a PyTorch state_dict with"
            + " its batch-norm buffers, or a flat .npy), e.g. from `influence4j train`.")
    Path parameters;

    @Option(names = "--train", required = true, description = "Training data: a CSV file (features, then labels;"
            + " .gz allowed), or features [n, *input shape] as .npy, FILE.npz[:NAME] or FILE.safetensors[:NAME]"
            + " (float32/64, int32/64) with --train-labels.")
    String train;

    @Option(names = "--train-labels", description = "Labels of array --train features: [n] or [n, k] as .npy,"
            + " FILE.npz[:NAME] or FILE.safetensors[:NAME] (default: the features' container's array y).")
    String trainLabels;

    @Option(names = "--skip-lines", defaultValue = "0", description = "Header lines to skip in every CSV file.")
    int skipLines;

    @Option(names = "--label-width", defaultValue = "1", description = "Label columns at the end of each CSV row (default: 1).")
    int labelWidth;

    /** @return the parsed spec (of {@code --spec} or {@code --onnx}), or {@code null} for a {@code --torchscript} model */
    ModelSpec readSpec() throws IOException {
        if ((spec != null ? 1 : 0) + (torchscript != null ? 1 : 0) + (onnx != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("--spec, --onnx or --torchscript: give exactly one of them");
        }
        if (onnx != null) {
            requireFile(onnx, "--onnx");
            if (loss == null) {
                throw new IllegalArgumentException("--loss: an --onnx model needs its loss, e.g. --loss"
                        + " softmax_cross_entropy");
            }
            try {
                imported = OnnxModels.read(onnx, Loss.parse(loss), DType.parse(dtype));
            } catch (IOException e) {
                throw new IllegalArgumentException("--onnx: " + e.getMessage(), e);
            }
            return imported.spec();
        }
        if (inputType != null && torchscript == null) {
            throw new IllegalArgumentException("--input-type: applies to --torchscript; a --spec or --onnx model"
                    + " states its input type itself");
        }
        if (torchscript != null) {
            requireFile(torchscript, "--torchscript");
            intInput();
            if (loss == null) {
                throw new IllegalArgumentException("--loss: a --torchscript model needs its loss, e.g. --loss"
                        + " softmax_cross_entropy");
            }
            return null;
        }
        requireFile(spec, "--spec");
        try {
            return ModelSpec.read(spec);
        } catch (IOException e) {
            throw new IllegalArgumentException("--spec: " + e.getMessage(), e);
        }
    }

    /**
     * @return the parameters of {@code --parameters} for {@code modelSpec}, checked against its layout,
     *     with the spec to use from now on: for a layer graph it carries the buffers (batch-norm
     *     running statistics) the file holds
     */
    ParameterFiles.State readState(ModelSpec modelSpec) throws IOException {
        if (parameters == null && imported != null) {
            return new ParameterFiles.State(imported.spec(), imported.parameters());
        }
        if (parameters == null) {
            throw new IllegalArgumentException(MISSING_PARAMETERS);
        }
        requireFile(parameters, "--parameters");
        try {
            return ParameterFiles.readState(parameters, modelSpec);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--parameters: " + e.getMessage(), e);
        }
    }

    /** @return whether parameters are given: {@code --parameters}, or the weights of {@code --onnx} */
    boolean hasParameters() {
        return parameters != null || onnx != null;
    }

    /**
     * @param modelSpec  the spec from {@link #readState} ({@code null} for TorchScript)
     * @param theta      the parameters from {@link #readState}; {@code null} (none given) is an error
     *                   for a spec
     * @return the model on {@code backend}: the spec with its parameters, or the TorchScript module
     *     with the chosen loss, taking inputs of the per-sample shape of the data read before
     *     ({@link #read}) and of the kind of {@code --input-type}
     */
    TwiceDifferentiable open(Backend backend, ModelSpec modelSpec, double[] theta) throws IOException {
        if (modelSpec != null) {
            if (theta == null) {
                throw new IllegalArgumentException(MISSING_PARAMETERS);
            }
            return backend.createModel(modelSpec, theta);
        }
        if (parameters != null) {
            throw new IllegalArgumentException("--parameters: a --torchscript model carries its own parameters");
        }
        if (!backend.capabilities().contains(BackendCapability.TORCHSCRIPT)) {
            throw new IllegalArgumentException("--torchscript: backend " + backend.name() + " cannot load TorchScript;"
                    + " use --backend djl-pytorch (or a backend with capability TORCHSCRIPT in `influence4j backends`)");
        }
        if (torchScriptInput == null) {
            throw new IllegalStateException("the data must be read before the TorchScript model is opened");
        }
        try {
            return backend.loadModel(torchscript, NativeModelOptions.torchScript(torchScriptInput, intInput(),
                    Loss.parse(loss), DType.parse(dtype)));
        } catch (IllegalArgumentException e) {
            // the backend names the file, and the dtype (--dtype) or the input (--train's shape, --input-type)
            throw new IllegalArgumentException("--torchscript: " + e.getMessage().replaceFirst("^file: ", ""), e);
        }
    }

    /** @return whether {@code --input-type} asks for int64 ids */
    private boolean intInput() {
        if (inputType == null || inputType.equals("float")) {
            return false;
        }
        if (inputType.equals("int64")) {
            return true;
        }
        throw new IllegalArgumentException("--input-type: float or int64, got " + inputType);
    }

    /** @return the data of {@code --train} (and {@code --train-labels}), checked against {@code modelSpec} */
    Batch readTrain(ModelSpec modelSpec) throws IOException {
        return read("--train", train, "--train-labels", trainLabels, modelSpec);
    }

    /**
     * Reads one data set: a CSV file when {@code file} ends in {@code .csv}/{@code .csv.gz}, or when
     * it is no array file and no labels are given; typed arrays otherwise.
     *
     * @param option      the data option, e.g. {@code --test}, named in messages
     * @param file        the CSV file or the features {@code FILE[:NAME]}
     * @param labelOption the labels option, e.g. {@code --test-labels}
     * @param labels      the labels {@code FILE[:NAME]}, or {@code null}
     * @param modelSpec   the spec the data must fit ({@code null} for TorchScript: any per-sample shape
     *                    for the first data set read, which the module will take; the same shape for
     *                    the later ones)
     * @throws IllegalArgumentException naming the option and the file when it is missing, of an
     *     unsupported type, of the wrong shape, empty, ragged or has a non-numeric cell (with its
     *     line and column), or does not fit the model
     */
    Batch read(String option, String file, String labelOption, String labels, ModelSpec modelSpec)
            throws IOException {
        Batch batch;
        String lower = file.toLowerCase(Locale.ROOT);
        boolean csv = lower.endsWith(".csv") || lower.endsWith(".csv.gz")
                || (labels == null && !ArrayDataSource.ArrayFile.isArrayFile(file));
        if (csv) {
            if (labels != null) {
                throw new IllegalArgumentException(labelOption + ": " + option + " " + file + " is CSV, which holds"
                        + " its labels in its last --label-width columns; drop " + labelOption);
            }
            batch = readCsv(Path.of(file), option);
        } else {
            if (!ArrayDataSource.ArrayFile.isArrayFile(file)) {
                throw new IllegalArgumentException(option + " " + file + ": unsupported file type for features with "
                        + labelOption + "; give .npy, FILE.npz[:NAME] or FILE.safetensors[:NAME] (or a .csv file"
                        + " with the labels in its last columns, without " + labelOption + ")");
            }
            ArrayDataSource source = ArrayDataSource.read(option, file, labelOption, labels,
                    modelSpec == null ? torchScriptInput : inputShape(modelSpec));
            batch = source.batch();
            if (modelSpec == null && torchScriptInput == null) {
                torchScriptInput = source.sampleShape();
            }
        }
        if (modelSpec == null) {
            if (torchScriptInput == null) {
                torchScriptInput = new long[] {batch.numFeatures()};
            } else if (batch.numFeatures() != Arrays.stream(torchScriptInput).reduce(1, (a, b) -> a * b)) {
                throw new IllegalArgumentException(option + " " + file + ": " + batch.numFeatures() + " features per"
                        + " sample but the --train data has per-sample shape " + Arrays.toString(torchScriptInput)
                        + "; give data of that shape");
            }
        }
        if (modelSpec != null) {
            modelSpec.validate(batch, option + " " + file);
        }
        return batch;
    }

    /** @return the per-sample input shape of {@code modelSpec}: the graph's, {@code [inputDim]}, or null */
    static long[] inputShape(ModelSpec modelSpec) {
        if (modelSpec == null) {
            return null;
        }
        return modelSpec.isGraph() ? modelSpec.graph().inputShape() : new long[] {modelSpec.inputDim()};
    }

    private Batch readCsv(Path file, String option) throws IOException {
        requireFile(file, option);
        if (skipLines < 0 || labelWidth < 1) {
            throw new IllegalArgumentException("--skip-lines must be >= 0 and --label-width >= 1");
        }
        try {
            return CsvDataSource.open(file, skipLines, labelWidth).readAll();
        } catch (IOException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    static void requireFile(Path file, String option) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + ": file " + file + " does not exist");
        }
    }
}
