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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorChecks;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.djl.DjlDTypes;

/**
 * A TorchScript module ({@code torch.jit.script(model).save(path)}) loaded through DJL PyTorch as a
 * {@link TwiceDifferentiable}, with a loss chosen by the caller. θ is the concatenation of the
 * module's {@code named_parameters()} in that order, each flattened row-major — the same layout as a
 * {@link ModelSpec} for the equivalent {@code nn.Sequential}.
 *
 * <p><b>Derivatives.</b> The module is opaque, so derivatives come from libtorch autograd through
 * its forward graph: the mean gradient from one backward pass; per-sample gradients from one
 * backward pass per sample (there is no batched trick for an arbitrary module); Hessian-vector
 * products by double backward: {@code backward(L, create_graph=true)} leaves the gradient g(θ) with
 * its graph in {@code .grad}, and a first-order backward of {@code ⟨g, v⟩} adds {@code H·v} to
 * {@code .grad}, so H·v is read as the increase of {@code .grad} (exact math; the subtraction costs
 * one rounding relative to |g|, about 1e-7·|g| in float32). Because DJL cannot reset {@code .grad} to
 * undefined, each HVP call runs on a fresh copy of the module loaded from the same file.
 * libtorch warns that {@code create_graph=true} forms a parameter↔gradient reference cycle; unlike
 * {@link PtModel} (which avoids it with an explicit backward pass) this class cannot avoid it, and
 * long HVP loops grow native memory: about 25 KB per HVP on the 4-input test fixture (RSS minus
 * Java heap +29 to +39 MB per 1,500 HVPs after warm-up; zeroing {@code .grad} in place does not
 * help, only dropping it would). For inversions that take thousands of HVPs (CG, LiSSA, Arnoldi),
 * use the equivalent {@link ModelSpec} with {@link PtModel}.
 * The full Hessian is p HVPs.
 *
 * <p>The module runs in eval mode ({@code module.eval()}: dropout off, batch norm on its running
 * statistics), with autograd on for the derivatives (see {@link #evalMode}). {@link #spec()} describes only the interface — input width, output width, loss
 * and dtype — as a one-layer spec; its {@code numParameters()} is not the module's (use
 * {@link #numParameters()}), so checkpoint writers that rely on the spec do not apply. Not
 * thread-safe. Holds native memory: close it.
 */
public final class PtTorchScriptModel implements TwiceDifferentiable {

    private final PtBackend backend;
    private final ModelSpec signature;
    private final DataType dataType;
    private final NDManager manager;
    private final PtSymbolBlock block;
    private final NDArray[] params;
    private final long[][] shapes;
    private final int numParameters;
    private final Path file;
    private boolean closed;

    private PtTorchScriptModel(PtBackend backend, ModelSpec signature, NDManager manager, PtSymbolBlock block,
                               NDArray[] params, Path file) {
        this.file = file;
        this.backend = backend;
        this.signature = signature;
        this.dataType = DjlDTypes.toDjl(signature.dtype());
        this.manager = manager;
        this.block = block;
        this.params = params;
        this.shapes = new long[params.length][];
        long p = 0;
        for (int q = 0; q < params.length; q++) {
            shapes[q] = params[q].getShape().getShape();
            p += params[q].size();
        }
        this.numParameters = Math.toIntExact(p);
    }

    /**
     * Loads a TorchScript file; the output width is read off one forward pass.
     *
     * @param backend  the djl-pytorch backend
     * @param file     the {@code .pt} file saved by {@code torch.jit.save}
     * @param inputDim features per sample the module takes ({@code [n, inputDim]} input)
     * @param loss     the per-sample loss applied to the output (see {@link Loss})
     * @param dtype    the parameters' dtype in the file (float32 or float64)
     * @throws IllegalArgumentException naming the file when it is missing, not TorchScript, has no
     *     parameters, parameters of another dtype, or an output that is not {@code [n, width]}
     */
    public static PtTorchScriptModel load(Backend backend, Path file, int inputDim, Loss loss, DType dtype) {
        if (!(backend instanceof PtBackend pt)) {
            throw new IllegalArgumentException("backend: TorchScript models need the djl-pytorch backend, got "
                    + (backend == null ? "null" : backend.name()));
        }
        if (file == null || !Files.isRegularFile(file)) {
            throw new IllegalArgumentException("file: TorchScript file " + file + " does not exist");
        }
        if (inputDim < 1 || loss == null || dtype == null) {
            throw new IllegalArgumentException("inputDim must be >= 1 and loss and dtype must not be null");
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
            NDList list = JniUtils.moduleGetParams(block, (PtNDManager) manager);
            if (list.isEmpty()) {
                throw new IllegalArgumentException("file: TorchScript module " + file + " has no parameters");
            }
            NDArray[] params = list.toArray(new NDArray[0]);
            DataType expected = DjlDTypes.toDjl(dtype);
            for (NDArray a : params) {
                if (a.getDataType() != expected) {
                    throw new IllegalArgumentException("file: parameter " + a.getName() + " of " + file + " is "
                            + a.getDataType() + " but the dtype given is " + dtype.jsonName());
                }
                a.setRequiresGradient(true);
            }
            long width;
            try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
                NDArray input = PtArrays.owned(m, new double[inputDim], new Shape(1, inputDim), expected);
                NDArray out = block.forward(new ParameterStore(m, false), new NDList(input), true).singletonOrThrow();
                out.attach(m);
                long[] shape = out.getShape().getShape();
                if (shape.length != 2 || shape[0] != 1) {
                    throw new IllegalArgumentException("file: TorchScript module " + file + " returns shape "
                            + Arrays.toString(shape) + " for one sample of " + inputDim + " features; expected [1, width]");
                }
                width = shape[1];
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("file: TorchScript module " + file + " does not accept input [1, "
                        + inputDim + "]: " + e.getMessage(), e);
            }
            ModelSpec signature = ModelSpec.builder(inputDim).dense(Math.toIntExact(width)).loss(loss).dtype(dtype)
                    .build();
            return new PtTorchScriptModel(pt, signature, manager, block, params, file.toAbsolutePath());
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
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

    /** @return the names of the module's parameters in θ order */
    public List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        for (NDArray a : params) {
            names.add(a.getName());
        }
        return names;
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
                        new Shape(shapes[q]), dataType);
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
            return target.wrap(run(m, batch.x(), batch.size(), block));
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
            return target.wrap(firstOrder(m, perSample(m, batch).mean()));
        }
    }

    @Override
    public Tensor perSampleGradients(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.enabled()) {
            NDList rows = new NDList(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                rows.add(firstOrder(m, perSample(m, batch.slice(i, i + 1)).sum()));
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
            block.close();
            manager.close();
        }
    }

    /**
     * Exact H·v per row of {@code vs}. libtorch leaves the gradient of a {@code create_graph}
     * backward, graph included, in the parameters' {@code .grad}, and DJL cannot reset {@code .grad}
     * to undefined; a later double backward would then run through the stale graph. So every call
     * loads a fresh copy of the module, sets it to θ, builds g(θ) with its graph by one
     * {@code create_graph} backward, and takes k first-order backward passes of {@code ⟨g, v_r⟩};
     * H·v_r is the increase of {@code .grad} in pass r. The copy is closed at the end.
     */
    private NDArray hvpRows(NDManager m, Batch batch, NDArray vs) {
        int k = Math.toIntExact(vs.getShape().get(0));
        PtSymbolBlock fresh = JniUtils.loadModule((PtNDManager) m, file, true, new String[0], new String[0], true);
        evalMode(fresh);
        try (PtGradMode g = PtGradMode.enabled()) {
            NDArray[] leaves = JniUtils.moduleGetParams(fresh, (PtNDManager) m).toArray(new NDArray[0]);
            try (PtGradMode off = PtGradMode.disabled()) {
                for (int q = 0; q < leaves.length; q++) {
                    leaves[q].subi(leaves[q]).addi(params[q]);
                }
            }
            for (NDArray leaf : leaves) {
                leaf.setRequiresGradient(true);
            }
            NDArray loss = perSample(m, batch, fresh).mean();
            NDArray seed = m.ones(new Shape(), dataType);
            JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, true, true);
            NDList parts = new NDList(leaves.length);
            for (NDArray leaf : leaves) {
                NDArray grad = JniUtils.getGradient((PtNDArray) leaf);
                grad.attach(m);
                parts.add(grad.reshape(-1));
            }
            NDArray gradient = NDArrays.concat(parts, 0);
            NDList rows = new NDList(k);
            NDArray before = flatGrad(m, leaves);
            for (int r = 0; r < k; r++) {
                NDArray s = gradient.mul(vs.get(r)).sum();
                JniUtils.backward((PtNDArray) s, (PtNDArray) seed, r < k - 1, false);
                NDArray after = flatGrad(m, leaves);
                rows.add(after.sub(before));
                before = after;
            }
            return NDArrays.stack(rows, 0);
        } finally {
            fresh.close();
        }
    }

    private static NDArray flatGrad(NDManager m, NDArray[] leaves) {
        NDList parts = new NDList(leaves.length);
        for (NDArray p : leaves) {
            NDArray grad = JniUtils.getGradient((PtNDArray) p);
            grad.attach(m);
            parts.add(grad.reshape(-1).duplicate());
        }
        return NDArrays.concat(parts, 0);
    }

    /** @return the flat gradient of the scalar {@code objective} with respect to θ */
    private NDArray firstOrder(NDManager m, NDArray objective) {
        zeroGrads();
        JniUtils.backward((PtNDArray) objective, (PtNDArray) m.ones(new Shape(), dataType), false, false);
        NDList parts = new NDList(params.length);
        for (NDArray p : params) {
            NDArray grad = JniUtils.getGradient((PtNDArray) p);
            grad.attach(m);
            parts.add(grad.reshape(-1).duplicate());
        }
        zeroGrads();
        return NDArrays.concat(parts, 0);
    }

    private void zeroGrads() {
        for (NDArray p : params) {
            JniUtils.zeroGrad((PtNDArray) p);
        }
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

    private NDArray run(NDManager m, double[] x, int n, PtSymbolBlock module) {
        NDArray input = PtArrays.owned(m, x, new Shape(n, signature.inputDim()), dataType);
        NDArray out = module.forward(new ParameterStore(m, false), new NDList(input), true).singletonOrThrow();
        out.attach(m);
        return out;
    }

    /** @return per-sample losses {@code [n]} of the batch (as {@link Loss} defines them) */
    private NDArray perSample(NDManager m, Batch batch) {
        return perSample(m, batch, block);
    }

    private NDArray perSample(NDManager m, Batch batch, PtSymbolBlock module) {
        int n = batch.size();
        NDArray f = run(m, batch.x(), n, module);
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
