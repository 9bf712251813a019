package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.NativeModelFormat;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.backend.djl.DjlDTypes;

/**
 * A TorchScript module ({@code torch.jit.script(model).save(path)}) loaded through DJL PyTorch as a
 * {@link TwiceDifferentiable}, with a loss chosen by the caller. θ is the concatenation of the
 * module's {@code named_parameters()} in that order, each flattened row-major — the layout of a
 * {@code state_dict} and of a {@link ModelSpec} for the equivalent network; {@link #parameterLayout()}
 * names the parts, so checkpoints of the module load by name.
 *
 * <p><b>Input.</b> The module is called on {@code [n, *inputShape]} ({@link NativeModelOptions}):
 * float features in the parameters' dtype ({@code [C, H, W]} images, {@code [d]} rows) or int64
 * token ids ({@code [T]}), each {@link Batch} row being one sample flattened row-major; ids must be
 * whole numbers. Its output must be {@code [n, width]}.
 *
 * <p><b>Derivatives.</b> The module is opaque, so derivatives come from libtorch autograd through
 * its forward graph, taken with {@code torch.autograd.grad} (run by the bundled TorchScript helper
 * {@code autograd-grad.pt}, made by {@code src/main/torchscript/make_autograd_grad.py}): the mean
 * gradient from one backward pass; per-sample gradients from one forward and backward pass per
 * sample (there is no batched trick for an arbitrary module); Hessian-vector products by double
 * backward — g(θ) with its graph, then one first-order pass of {@code ⟨g, v⟩} per vector (exact).
 * Nothing is accumulated into the parameters' {@code .grad}: DJL's own {@code backward} would leave a
 * {@code create_graph} gradient there, a parameter↔gradient reference cycle that only resetting
 * {@code .grad} to undefined breaks and that DJL cannot reset. So every graph is freed with the
 * tensors of its call, and native memory stays flat in long HVP loops (measured in
 * {@code PtModelNativeMemoryTest}). The full Hessian is p HVPs.
 *
 * <p>The module runs in eval mode ({@code module.eval()}: dropout off, batch norm on its running
 * statistics), with autograd on for the derivatives (see {@link #evalMode}). {@link #spec()}
 * describes only the interface — values per sample, output width, loss and dtype — as a one-layer
 * spec; its {@code numParameters()} and {@code parameterLayout()} are not the module's (use
 * {@link #numParameters()} and {@link #parameterLayout()}), and it has no layer factors, so
 * TracInCPFast and EK-FAC do not apply. Not thread-safe. Holds native memory: close it.
 */
public final class PtTorchScriptModel implements TwiceDifferentiable {

    /** The class-path resource of the torch.autograd.grad helper module. */
    private static final String AUTOGRAD_HELPER = "autograd-grad.pt";
    /** The helper's name for a list argument ({@code IValueUtils} groups arrays named {@code NAME[]}). */
    private static final String LIST_ARGUMENT = "inputs[]";
    /** Ids are exact in a double up to 2⁵³. */
    private static final double MAX_ID = 9007199254740992.0;

    private final PtBackend backend;
    private final ModelSpec signature;
    private final long[] inputShape;
    private final boolean intInput;
    private final DataType dataType;
    private final NDManager manager;
    private final PtSymbolBlock block;
    private final PtSymbolBlock autograd;
    private final NDArray[] params;
    private final NDArray[] gradInputs;
    private final List<ParameterInfo> layout;
    private final int numParameters;
    private boolean closed;

    private PtTorchScriptModel(PtBackend backend, ModelSpec signature, NativeModelOptions options, NDManager manager,
                               PtSymbolBlock block, PtSymbolBlock autograd, NDArray[] params,
                               NDArray[] gradInputs) {
        this.backend = backend;
        this.signature = signature;
        this.inputShape = options.inputShape();
        this.intInput = options.intInput();
        this.dataType = DjlDTypes.toDjl(signature.dtype());
        this.manager = manager;
        this.block = block;
        this.autograd = autograd;
        this.params = params;
        this.gradInputs = gradInputs;
        List<ParameterInfo> parts = new ArrayList<>();
        int offset = 0;
        for (int q = 0; q < params.length; q++) {
            ParameterInfo info = new ParameterInfo(params[q].getName(), params[q].getShape().getShape(), offset, q);
            parts.add(info);
            offset += info.size();
        }
        this.layout = List.copyOf(parts);
        this.numParameters = offset;
    }

    /**
     * Loads a TorchScript file; the output width is read off one forward pass of a zero sample.
     *
     * @param backend the djl-pytorch backend
     * @param file    the {@code .pt} file saved by {@code torch.jit.save}
     * @param options the input shape and kind, the per-sample loss applied to the output (see
     *                {@link Loss}) and the parameters' dtype in the file (float32 or float64); its
     *                format must be {@link NativeModelFormat#TORCHSCRIPT}
     * @throws IllegalArgumentException naming the file when it is missing, not TorchScript, has no
     *     parameters, parameters of another dtype, does not accept the input, or returns an output
     *     that is not {@code [n, width]}
     */
    public static PtTorchScriptModel load(Backend backend, Path file, NativeModelOptions options) {
        if (!(backend instanceof PtBackend pt)) {
            throw new IllegalArgumentException("backend: TorchScript models need the djl-pytorch backend, got "
                    + (backend == null ? "null" : backend.name()));
        }
        if (file == null || !Files.isRegularFile(file)) {
            throw new IllegalArgumentException("file: TorchScript file " + file + " does not exist");
        }
        if (options == null || options.format() != NativeModelFormat.TORCHSCRIPT) {
            throw new IllegalArgumentException("options: need NativeModelOptions.torchScript(...), got " + options);
        }
        NDManager manager = pt.engine().newBaseManager();
        try {
            PtSymbolBlock block;
            try {
                block = JniUtils.loadModule((PtNDManager) manager, file.toAbsolutePath(), true, new String[0],
                        new String[0], true);
                evalMode(block);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("file: " + file + " could not be loaded as TorchScript: "
                        + e.getMessage(), e);
            }
            NDArray[] params = JniUtils.moduleGetParams(block, (PtNDManager) manager).toArray(new NDArray[0]);
            if (params.length == 0) {
                throw new IllegalArgumentException("file: TorchScript module " + file + " has no parameters");
            }
            DataType expected = DjlDTypes.toDjl(options.dtype());
            for (NDArray a : params) {
                if (a.getDataType() != expected) {
                    throw new IllegalArgumentException("file: parameter " + a.getName() + " of " + file + " is "
                            + a.getDataType() + " but the dtype given is " + options.dtype().jsonName() + "; give "
                            + a.getDataType().toString().toLowerCase(Locale.ROOT));
                }
                a.setRequiresGradient(true);
            }
            // second handles of the same parameter tensors, named as the helper's list argument
            NDArray[] gradInputs = JniUtils.moduleGetParams(block, (PtNDManager) manager).toArray(new NDArray[0]);
            for (NDArray a : gradInputs) {
                a.setName(LIST_ARGUMENT);
            }
            PtSymbolBlock autograd = loadAutogradHelper((PtNDManager) manager);
            ModelSpec signature = ModelSpec.builder(options.inputDim())
                    .dense(Math.toIntExact(outputWidth(block, manager, file, options, expected)))
                    .loss(options.loss()).dtype(options.dtype()).build();
            return new PtTorchScriptModel(pt, signature, options, manager, block, autograd, params, gradInputs);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static long outputWidth(PtSymbolBlock block, NDManager manager, Path file, NativeModelOptions options,
                                    DataType type) {
        String input = (options.intInput() ? "int64 ids " : type + " input ")
                + Arrays.toString(batchShape(1, options.inputShape()));
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            NDArray zeros = m.zeros(new Shape(batchShape(1, options.inputShape())),
                    options.intInput() ? DataType.INT64 : type);
            NDArray out = block.forward(new ParameterStore(m, false), new NDList(zeros), true).singletonOrThrow();
            out.attach(m);
            long[] shape = out.getShape().getShape();
            if (shape.length != 2 || shape[0] != 1) {
                throw new IllegalArgumentException("file: TorchScript module " + file + " returns shape "
                        + Arrays.toString(shape) + " for " + input + "; expected [1, width]");
            }
            return shape[1];
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("file: TorchScript module " + file + " does not accept " + input
                    + " (give the per-sample input shape it takes, and int64 ids for an embedding): "
                    + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static PtSymbolBlock loadAutogradHelper(PtNDManager manager) {
        try (InputStream in = PtTorchScriptModel.class.getResourceAsStream(AUTOGRAD_HELPER)) {
            if (in == null) {
                throw new IllegalStateException("djl-pytorch: resource " + AUTOGRAD_HELPER + " is missing from the jar");
            }
            PtSymbolBlock helper = JniUtils.loadModule(manager, in, true, false);
            evalMode(helper);
            return helper;
        } catch (IOException e) {
            throw new UncheckedIOException("djl-pytorch: could not read " + AUTOGRAD_HELPER, e);
        }
    }

    private static long[] batchShape(long n, long[] sampleShape) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = n;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    /** @return the interface of the module as a one-layer spec (see the class comment) */
    @Override
    public ModelSpec spec() {
        return signature;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int numParameters() {
        return numParameters;
    }

    /** @return the module's {@code named_parameters()}: names and shapes of θ's parts, in θ order */
    @Override
    public List<ParameterInfo> parameterLayout() {
        return layout;
    }

    @Override
    public double[] parameters() {
        checkOpen();
        double[] theta = new double[numParameters];
        int offset = 0;
        for (NDArray a : params) {
            double[] part = a.toType(DataType.FLOAT64, true).toDoubleArray();
            System.arraycopy(part, 0, theta, offset, part.length);
            offset += part.length;
        }
        return theta;
    }

    @Override
    public void setParameters(double[] parameters) {
        checkOpen();
        if (parameters == null || parameters.length != numParameters) {
            throw new IllegalArgumentException("parameters: length " + (parameters == null ? "null" : parameters.length)
                    + " but the TorchScript module has " + numParameters + " parameters");
        }
        for (double v : parameters) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("parameters: must be finite");
            }
        }
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            int offset = 0;
            for (int q = 0; q < params.length; q++) {
                int size = Math.toIntExact(params[q].size());
                NDArray value = PtArrays.owned(m, Arrays.copyOfRange(parameters, offset, offset + size),
                        new Shape(layout.get(q).shape()), dataType);
                // in place, without autograd, so that the module keeps using the same parameter tensors
                params[q].subi(params[q]).addi(value);
                offset += size;
            }
        }
    }

    @Override
    public Tensor forward(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            return target.wrap(run(m, batch.features(), batch.size()));
        }
    }

    @Override
    public double loss(Batch batch) {
        checkCall(batch);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            return perSample(m, batch).mean().toType(DataType.FLOAT64, false).getDouble();
        }
    }

    @Override
    public Tensor perSampleLosses(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            return target.wrap(perSample(m, batch));
        }
    }

    @Override
    public Tensor gradient(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.enabled()) {
            return target.wrap(grad(m, perSample(m, batch).mean(), false));
        }
    }

    @Override
    public Tensor perSampleGradients(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.enabled()) {
            NDList rows = new NDList(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                rows.add(grad(m, perSample(m, batch.slice(i, i + 1)).sum(), false));
            }
            return target.wrap(NDArrays.stack(rows, 0));
        }
    }

    @Override
    public Tensor hvp(Batch batch, Tensor v, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        PtTensor vt = PtTensor.require(v, "v");
        if (vt.shape().length != 1 || vt.shape()[0] != numParameters) {
            throw new IllegalArgumentException("v: shape " + Arrays.toString(vt.shape()) + "; expected ["
                    + numParameters + "]");
        }
        try (NDManager m = manager.newSubManager()) {
            NDArray vs = vt.ndArray().toType(dataType, true);
            vs.attach(m);
            return target.wrap(hvpRows(m, batch, vs.reshape(1, numParameters)).reshape(numParameters));
        }
    }

    @Override
    public Tensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        PtTensor vt = PtTensor.require(vs, "vs");
        if (vt.shape().length != 2 || vt.shape()[1] != numParameters) {
            throw new IllegalArgumentException("vs: shape " + Arrays.toString(vt.shape()) + "; expected [k, "
                    + numParameters + "]");
        }
        try (NDManager m = manager.newSubManager()) {
            NDArray copy = vt.ndArray().toType(dataType, true);
            copy.attach(m);
            return target.wrap(hvpRows(m, batch, copy));
        }
    }

    /** {@inheritDoc} p Hessian-vector products of the unit vectors, symmetrised. */
    @Override
    public Tensor hessian(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager()) {
            NDArray h = hvpRows(m, batch, m.eye(numParameters, numParameters, 0, dataType));
            return target.wrap(h.add(h.transpose()).mul(PtArrays.scalar(m, 0.5, dataType)));
        }
    }

    @Override
    public boolean isThreadSafe() {
        return false;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            autograd.close();
            block.close();
            manager.close();
        }
    }

    /**
     * Exact H·v per row of {@code vs}: g(θ) with its graph from one {@code create_graph} pass, then one
     * first-order pass of {@code ⟨g, v_r⟩} per row, all through {@code torch.autograd.grad}; the graphs
     * belong to {@code m}'s tensors and go with them.
     */
    private NDArray hvpRows(NDManager m, Batch batch, NDArray vs) {
        int k = Math.toIntExact(vs.getShape().get(0));
        try (PtGradMode g = PtGradMode.enabled()) {
            NDArray gradient = grad(m, perSample(m, batch).mean(), true);
            NDList rows = new NDList(k);
            for (int r = 0; r < k; r++) {
                rows.add(grad(m, gradient.mul(vs.get(r)).sum(), false));
            }
            return NDArrays.stack(rows, 0);
        }
    }

    /**
     * {@code torch.autograd.grad(objective, θ)} flattened to {@code [p]}, run by the helper module:
     * its {@code forward} keeps the graph of the result ({@code create_graph}), {@code first_order}
     * does not. Autograd must be on.
     */
    private NDArray grad(NDManager m, NDArray objective, boolean withGraph) {
        NDList arguments = new NDList(gradInputs.length + 2);
        arguments.add(objective);
        arguments.addAll(new NDList(gradInputs));
        if (!withGraph) {
            NDArray method = m.zeros(new Shape(1));
            method.setName("module_method:first_order");
            arguments.add(method);
        }
        NDList parts = autograd.forward(new ParameterStore(m, false), arguments, true);
        parts.attach(m);
        NDList flat = new NDList(parts.size());
        for (NDArray part : parts) {
            flat.add(part.reshape(-1));
        }
        return NDArrays.concat(flat, 0);
    }

    /**
     * Puts the module in eval mode ({@code module.eval()} natively: dropout off, batch norm on running
     * statistics). DJL's own switch, {@code forward(..., training = false)}, also runs the module
     * without autograd, so the module is always called with {@code training = true} (no switch, grad
     * kept) after this.
     */
    private static void evalMode(PtSymbolBlock module) {
        JniUtils.enableInferenceMode(module);
    }

    private NDArray run(NDManager m, HostArray x, int n) {
        NDArray input;
        Shape shape = new Shape(batchShape(n, inputShape));
        if (intInput) {
            for (int i = 0, size = x.size(); i < size; i++) {
                double id = x.get(i);
                if (id != Math.rint(id) || Math.abs(id) > MAX_ID) {
                    throw new IllegalArgumentException("batch: feature " + i + " is " + id + " but the TorchScript"
                            + " module takes int64 ids; give whole numbers");
                }
            }
            try (NDArray floats = PtArrays.owned(m, x, shape, DataType.FLOAT64)) {
                input = floats.toType(DataType.INT64, false);
            }
        } else {
            input = PtArrays.owned(m, x, shape, dataType);
        }
        NDArray out = block.forward(new ParameterStore(m, false), new NDList(input), true).singletonOrThrow();
        out.attach(m);
        return out;
    }

    /** @return per-sample losses {@code [n]} of the batch (as {@link Loss} defines them) */
    private NDArray perSample(NDManager m, Batch batch) {
        int n = batch.size();
        NDArray f = run(m, batch.features(), n);
        int classes = signature.outputDim();
        return switch (signature.loss()) {
            case MSE -> {
                NDArray y = PtArrays.owned(m, batch.y(), new Shape(n, classes), dataType);
                NDArray d = f.sub(y);
                yield d.mul(d).mean(new int[] {1});
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                double[] oneHot = new double[n * classes];
                for (int i = 0; i < n; i++) {
                    oneHot[i * classes + (int) batch.y()[i]] = 1.0;
                }
                NDArray y = PtArrays.owned(m, oneHot, new Shape(n, classes), dataType);
                yield f.logSoftmax(1).mul(y).sum(new int[] {1}).neg();
            }
            case BINARY_LOGISTIC -> {
                NDArray y = PtArrays.owned(m, batch.y(), new Shape(n, 1), dataType);
                yield JniUtils.softPlus((PtNDArray) f).sub(f.mul(y)).reshape(n);
            }
        };
    }

    private PtTensorScope checkCall(Batch batch, TensorScope scope) {
        checkCall(batch);
        PtTensorScope target = backend.requireScope(scope, "scope");
        TensorChecks.checkResultScopeOpen(target.isClosed());
        return target;
    }

    private void checkCall(Batch batch) {
        checkOpen();
        signature.validate(batch, "batch");
        if (batch.size() == 0) {
            throw new IllegalArgumentException("batch: is empty");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("TorchScript model is closed");
        }
    }
}
