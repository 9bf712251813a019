package org.influence4j.backend.pytorch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.djl.DjlDTypes;
import org.influence4j.backend.djl.DjlKernels;

/**
 * A {@link ModelSpec} (Dense layers and elementwise activations, MSE / softmax cross-entropy /
 * binary logistic loss, float32 or float64) on libtorch through DJL, as a {@link TwiceDifferentiable}.
 *
 * <p><b>Conventions.</b> θ is flat in PyTorch {@code named_parameters()} order (each Dense: weight
 * {@code [out,in]} row-major, then bias {@code [out]}). Batch losses are means over samples; per-sample
 * losses follow {@link org.influence4j.api.model.Loss}. SOFTPLUS is libtorch's {@code softplus}
 * (β = 1, threshold 20, as {@code torch.nn.Softplus()}).
 *
 * <p><b>How the derivatives are computed.</b> One forward pass keeps every layer input; an explicit
 * backward pass computes the per-sample output errors {@code δ_j = ∂ℓ_i/∂z_j} {@code [n, out_j]} of
 * each Dense layer j for the whole batch (batched matrix products, no per-sample loop). Then
 * <ul>
 *   <li>per-sample gradients are the batched outer products {@code δ_j[i] ⊗ a_j[i]} (weights) and
 *       {@code δ_j[i]} (biases), one {@code [n, p]} matrix from one pass — exact;</li>
 *   <li>the mean gradient is {@code δ_jᵀ a_j / n} and {@code Σ_i δ_j[i] / n};</li>
 *   <li>Hessian-vector products are exact and need no autograd: an explicit Pearlmutter R-pass
 *       differentiates the forward and backward passes along a block of up to 128 directions at
 *       once ({@code [k, n, width]} arrays: forward {@code R{z}}, {@code R{a}}; backward {@code R{δ}}
 *       with the activations' second derivatives; {@code R{∇W} = (R{δ}ᵀ a + δᵀ R{a}) / n}), so a
 *       block of k vectors (and the Hessian, p unit vectors) costs k/128 batched passes, not k
 *       backward calls;</li>
 *   <li>mixed derivatives ∇x∇θ are exact: the explicit backward pass is recorded by libtorch
 *       autograd with the features as a leaf, giving the summed gradient as a differentiable graph;
 *       one first-order autograd backward of {@code <g, v>}
 *       ({@code JniUtils.backward(s, 1, keepGraph, createGraph=false)}) per direction leaves the
 *       result in the features' {@code .grad}; the graph is built once and kept until the last
 *       direction.</li>
 * </ul>
 * libtorch's {@code backward(create_graph=true)} is deliberately not used: it makes a
 * parameter&lt;-&gt;gradient reference cycle that DJL cannot break (there is no way to reset
 * {@code .grad} to undefined through its JNI), and it was measured here to leak about 80 KB of
 * native memory per HVP even with fresh parameter leaves. With the scheme above every call runs in
 * its own {@code NDManager} sub-manager that is closed at the end, the leaves' gradients carry no
 * graph, and native memory stays flat (see the module's memory test).
 *
 * <p>Every array lives in libtorch-owned memory and no Java number is passed to a DJL operation
 * (see {@code PtArrays}): DJL's Java-buffer-backed tensors can be freed by the garbage collector
 * while an autograd graph still reads them, which made HVPs silently wrong under GC pressure.
 *
 * <p>Returned tensors belong to the caller's scope. Not thread-safe ({@link #isThreadSafe()} is false):
 * one instance must be used by one thread at a time. Holds native memory: close it. The accessors,
 * θ's host copy and the argument checks are those of {@link AbstractSpecModel}.
 */
public final class PtModel extends AbstractSpecModel<PtBackend, PtTensorScope> {

    private final DataType dataType;
    private final NDManager manager;
    private NDArray[] params;

    PtModel(PtBackend backend, ModelSpec spec, double[] parameters) {
        super(backend, spec, parameters);
        this.dataType = DjlDTypes.toDjl(spec.dtype());
        this.manager = backend.engine().newBaseManager();
        try {
            this.params = upload(parameters);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        NDArray[] fresh = upload(parameters);
        NDArray[] old = params;
        params = fresh;
        for (NDArray a : old) {
            a.close();
        }
    }

    @Override
    public PtTensor forward(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            return target.wrap(pass.output);
        }
    }

    @Override
    public double loss(Batch batch) {
        checkBatch(batch);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            NDArray losses = perSampleLoss(pass.output, targets(m, batch));
            return mean(losses.getDataType() == DataType.FLOAT64
                    ? losses.toDoubleArray() : losses.toType(DataType.FLOAT64, true).toDoubleArray());
        }
    }

    @Override
    public PtTensor perSampleLosses(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            return target.wrap(perSampleLoss(pass.output, targets(m, batch)));
        }
    }

    @Override
    public PtTensor gradient(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            backward(pass, outputDelta(pass.output, targets(m, batch)), params);
            return target.wrap(meanGradient(pass, batch.size()));
        }
    }

    @Override
    public PtTensor perSampleGradients(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            backward(pass, outputDelta(pass.output, targets(m, batch)), params);
            int n = batch.size();
            NDList pieces = new NDList(2 * numDense());
            for (int j = 0; j < numDense(); j++) {
                NDArray delta = pass.denseDeltas[j];
                NDArray a = pass.denseInputs[j];
                pieces.add(delta.expandDims(2).mul(a.expandDims(1)).reshape(n, -1));
                pieces.add(delta);
            }
            return target.wrap(NDArrays.concat(pieces, 1));
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code v} is not a djl-pytorch vector of shape {@code [p]}
     */
    @Override
    public PtTensor hvp(Batch batch, Tensor v, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        PtTensor vt = PtTensor.require(v, "v");
        requireVector(vt, "v");
        int p = numParameters();
        try (NDManager m = manager.newSubManager()) {
            NDArray vs = copyInto(m, vt.ndArray()).reshape(1, p);
            return target.wrap(hvpRows(m, batch, vs).reshape(p));
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code vs} is not a djl-pytorch matrix of shape {@code [k, p]}
     */
    @Override
    public PtTensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        PtTensor vt = PtTensor.require(vs, "vs");
        long k = requireBlock(vt, "vs");
        try (NDManager m = manager.newSubManager()) {
            if (k == 0) {
                return target.wrap(m.zeros(new Shape(0, numParameters()), dataType));
            }
            return target.wrap(hvpRows(m, batch, copyInto(m, vt.ndArray())));
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Computed as the p Hessian-vector products of the unit vectors on one autograd graph, then
     * symmetrised ({@code (H + Hᵀ)/2}, a change at rounding level) so that the result is exactly
     * symmetric. Costs p backward passes and {@code p²} memory: meant for small p.
     */
    @Override
    public PtTensor hessian(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        warnIfLargeHessian("backward passes");
        int p = numParameters();
        try (NDManager m = manager.newSubManager()) {
            NDArray h = hvpRows(m, batch, m.eye(p, p, 0, dataType));
            return target.wrap(h.add(h.transpose()).mul(scalar(m, 0.5)));
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>These are the layer inputs and output errors of the explicit backward pass that also gives
     * {@link #perSampleGradients}; no autograd is involved.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            return factorsOf(pass, outputDelta(pass.output, targets(m, batch)), target);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One forward pass and one backward pass of the pooled output gradient
     * {@code (Σ_c √p_ic) p_i − √p_i}.
     */
    @Override
    public List<LayerGradientFactors> pooledFisherLayerGradientFactors(Batch batch, TensorScope scope) {
        LayerGradientFactors.requireClasses(spec(), 0, spec().outputDim());
        PtTensorScope target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            NDArray p = pass.output.softmax(1);
            NDArray roots = p.sqrt();
            return factorsOf(pass, p.mul(roots.sum(new int[] {1}, true)).sub(roots), target).stream()
                    .map(LayerGradientFactors::of).toList();
        }
    }

    /** The layer inputs and output errors of the backward pass of {@code outputGradient} through {@code pass}. */
    private List<DenseLayerFactors> factorsOf(Pass pass, NDArray outputGradient, PtTensorScope target) {
        backward(pass, outputGradient, params);
        Set<NDArray> wrapped = Collections.newSetFromMap(new IdentityHashMap<>());
        List<DenseLayerFactors> out = new ArrayList<>(numDense());
        for (int j = 0; j < numDense(); j++) {
            out.add(denseFactors(j, target.wrap(distinct(pass.denseInputs[j], wrapped)),
                    target.wrap(distinct(pass.denseDeltas[j], wrapped))));
        }
        return List.copyOf(out);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One forward pass; the weighted output gradients {@code √p_ic (p_i − e_c)} of the classes,
     * stacked {@code [classes, n, C]}, go through one backward pass (the activations broadcast over the
     * classes), with no repeated batch.
     */
    @Override
    public List<LayerGradientFactors> fisherLayerGradientFactors(Batch batch, int fromClass, int toClass,
                                                                 TensorScope scope) {
        LayerGradientFactors.requireClasses(spec(), fromClass, toClass);
        PtTensorScope target = checkCall(batch, scope);
        int copies = toClass - fromClass;
        int c = spec().outputDim();
        long n = batch.size();
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            double[] labels = new double[copies * c];
            for (int k = 0; k < copies; k++) {
                labels[k * c + fromClass + k] = 1;
            }
            NDArray oneHot = PtArrays.owned(m, labels, new Shape(copies, 1, c), dataType);
            NDArray p = pass.output.softmax(1);
            NDArray weights = p.get(":, {}:{}", fromClass, toClass).sqrt().transpose().expandDims(2);
            backward(pass, p.expandDims(0).sub(oneHot).mul(weights), params);
            Set<NDArray> wrapped = Collections.newSetFromMap(new IdentityHashMap<>());
            List<LayerGradientFactors> out = new ArrayList<>(numDense());
            for (int j = 0; j < numDense(); j++) {
                NDArray deltas = pass.denseDeltas[j];
                out.add(LayerGradientFactors.of(denseFactors(j, target.wrap(distinct(pass.denseInputs[j], wrapped)),
                        target.wrap(deltas.reshape(copies * n, deltas.getShape().get(2))))));
            }
            return List.copyOf(out);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: the inputs x are an autograd leaf, the explicit backward pass gives the summed
     * per-sample gradients {@code Σ_i ∇θ ℓ_i} as a differentiable function of x, and one first-order
     * backward of {@code <Σ_i ∇θ ℓ_i, vs[j,:]>} per row j yields {@code ∇_{x_i} <vs[j,:], ∇θ ℓ_i>}
     * for every i at once (∇θ ℓ_i depends on x_i only). The graph is built once for the k rows.
     *
     * @throws IllegalArgumentException if {@code vs} is not a djl-pytorch matrix of shape {@code [k, p]}
     */
    @Override
    public PtTensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        PtTensorScope target = checkCall(batch, scope);
        PtTensor vt = PtTensor.require(vs, "vs");
        int k = Math.toIntExact(requireBlock(vt, "vs"));
        int n = batch.size();
        try (NDManager m = manager.newSubManager(); PtGradMode g = PtGradMode.enabled()) {
            if (k == 0) {
                return target.wrap(m.zeros(new Shape(0, n, spec().inputDim()), dataType));
            }
            NDArray v = copyInto(m, vt.ndArray());
            NDArray x = features(m, batch);
            x.setRequiresGradient(true);
            Pass pass = forward(x, params);
            backward(pass, outputDelta(pass.output, targets(m, batch)), params);
            NDArray summed = gradientSum(pass, null);
            NDArray seed = m.ones(new Shape(), dataType);
            NDList rows = new NDList(k);
            for (int r = 0; r < k; r++) {
                NDArray s = summed.mul(v.get(r)).sum();
                JniUtils.backward((PtNDArray) s, (PtNDArray) seed, r < k - 1, false);
                rows.add(x.getGradient().duplicate());
                JniUtils.zeroGrad((PtNDArray) x);
            }
            return target.wrap(k == 1 ? rows.get(0).expandDims(0) : NDArrays.stack(rows, 0));
        }
    }

    @Override
    protected void releaseNative() {
        manager.close();
    }

    @Override
    protected PtTensorScope requireScope(TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(PtTensorScope scope) {
        return scope.isClosed();
    }

    // ---------------------------------------------------------------------------------------------

    /** Intermediate arrays of one pass; all live in the call's work manager. */
    private static final class Pass {
        final NDArray[] layerInputs;
        final NDArray[] layerOutputs;
        final NDArray[] denseInputs;
        final NDArray[] denseDeltas;
        NDArray output;

        Pass(int layers, int dense) {
            layerInputs = new NDArray[layers];
            layerOutputs = new NDArray[layers];
            denseInputs = new NDArray[dense];
            denseDeltas = new NDArray[dense];
        }
    }

    /**
     * Exact H·v for every row of {@code vs} ({@code [k,p]}, model dtype, in {@code m}): builds the
     * gradient graph once on fresh parameter leaves and runs k first-order backward passes on it.
     */
    /** Directions per explicit R-pass: bounds the {@code [k, n, width]} work arrays. */
    private static final int DIRECTIONS_PER_PASS = 128;

    /**
     * Hessian-vector products of the mean loss for the rows of {@code vs [k, p]}, {@code [k, p]}: an
     * explicit Pearlmutter R-pass over the Dense stack for a block of directions at once (forward
     * R{z}, R{a}; backward R{δ}; R{∇W} = (R{δ}ᵀa + δᵀR{a})/n), batched over the directions; no
     * autograd, and no per-direction backward call.
     */
    private NDArray hvpRows(NDManager m, Batch batch, NDArray vs) {
        int k = Math.toIntExact(vs.getShape().get(0));
        try (PtGradMode g = PtGradMode.disabled()) {
            Pass pass = forward(features(m, batch), params);
            NDArray delta = outputDelta(pass.output, targets(m, batch));
            backward(pass, delta, params);
            NDArray[] weights = new NDArray[numDense()];
            for (int j = 0; j < numDense(); j++) {
                weights[j] = copyInto(m, params[2 * j]);
            }
            NDList blocks = new NDList();
            for (int from = 0; from < k; from += DIRECTIONS_PER_PASS) {
                int to = Math.min(k, from + DIRECTIONS_PER_PASS);
                // each pass's work arrays are freed before the next: without the scope they stay in m
                // until the call returns, (k / DIRECTIONS_PER_PASS) times the [DIRECTIONS_PER_PASS, n, width] arrays
                try (NDScope passArrays = new NDScope()) {
                    NDArray block = k <= DIRECTIONS_PER_PASS ? vs : vs.get(from + ":" + to);
                    NDArray rows = rPass(m, pass, delta, weights, block, batch.size());
                    NDScope.unregister(rows);
                    blocks.add(rows);
                }
            }
            return blocks.size() == 1 ? blocks.get(0) : NDArrays.concat(blocks, 0);
        }
    }

    /** One R-pass for the directions {@code vs [k, p]} given the forward pass and its output error. */
    private NDArray rPass(NDManager m, Pass pass, NDArray outputDelta, NDArray[] weights, NDArray vs, int n) {
        int k = Math.toIntExact(vs.getShape().get(0));
        List<Layer> layers = spec().layers();
        int dense = numDense();
        NDArray[] vw = new NDArray[dense];
        NDArray[] vb = new NDArray[dense];
        long offset = 0;
        for (int j = 0; j < dense; j++) {
            Shape w = params[2 * j].getShape();
            long size = w.get(0) * w.get(1);
            vw[j] = vs.get(":, " + offset + ":" + (offset + size)).reshape(k, w.get(0), w.get(1));
            vb[j] = vs.get(":, " + (offset + size) + ":" + (offset + size + w.get(0))).reshape(k, 1, w.get(0));
            offset += size + w.get(0);
        }
        // forward: R{a} (null: zero, the inputs do not depend on θ); R{z} kept at each activation's input
        NDArray[] rDenseInput = new NDArray[dense];
        NDArray[] rActInput = new NDArray[layers.size()];
        NDArray ra = null;
        int j = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Dense) {
                rDenseInput[j] = ra;
                NDArray rz = pass.denseInputs[j].matMul(vw[j].transpose(0, 2, 1)).addi(vb[j]);
                ra = ra == null ? rz : rz.addi(ra.matMul(weights[j].transpose()));
                j++;
            } else {
                rActInput[i] = ra;
                NDArray d = activationDerivative(((Layer.Act) layer).activation(), pass.layerInputs[i],
                        pass.layerOutputs[i]);
                ra = d == null ? ra : ra.mul(d);
            }
        }
        // R{δ} at the output: R of ∂ℓ/∂f = H_ℓ R{f}
        NDArray f = pass.output;
        NDArray rDelta = switch (spec().loss()) {
            case MSE -> ra.mul(scalar(m, 2.0 / spec().outputDim()));
            case SOFTMAX_CROSS_ENTROPY -> {
                NDArray prob = f.softmax(1);
                yield ra.sub(ra.mul(prob).sum(new int[] {2}, true)).muli(prob);
            }
            case BINARY_LOGISTIC -> {
                NDArray s = JniUtils.sigmoid((PtNDArray) f);
                yield ra.mul(s.sub(s.square()));
            }
        };
        // backward: R{δ} through activations and Dense layers, R{∇W_j}, R{∇b_j}
        NDArray delta = outputDelta;
        NDArray inverseN = scalar(m, 1.0 / n);
        NDArray[] rows = new NDArray[2 * dense];
        j = dense - 1;
        for (int i = layers.size() - 1; i >= 0 && j >= 0; i--) {
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Act act) {
                NDArray z = pass.layerInputs[i];
                NDArray h = pass.layerOutputs[i];
                NDArray d1 = activationDerivative(act.activation(), z, h);
                NDArray d2 = activationSecondDerivative(act.activation(), z, h);
                // in place: R{δ} and R{z} at this activation are not read again
                NDArray next = d1 == null ? rDelta : rDelta.muli(d1);
                if (d2 != null && rActInput[i] != null) {
                    next = next.addi(rActInput[i].muli(delta.mul(d2)));
                }
                rDelta = next;
                delta = d1 == null ? delta : delta.mul(d1);
            } else {
                NDArray a = pass.denseInputs[j];
                NDArray rw = rDelta.transpose(0, 2, 1).matMul(a);
                if (rDenseInput[j] != null) {
                    rw = rw.addi(delta.transpose().matMul(rDenseInput[j]));
                }
                rows[2 * j] = rw.muli(inverseN).reshape(k, -1);
                rows[2 * j + 1] = rDelta.sum(new int[] {1}).muli(inverseN);
                if (j > 0) {
                    rDelta = rDelta.matMul(weights[j]).addi(delta.matMul(vw[j]));
                    delta = delta.matMul(weights[j]);
                }
                j--;
            }
        }
        return NDArrays.concat(new NDList(rows), 1);
    }

    private Pass forward(NDArray x, NDArray[] p) {
        List<Layer> layers = spec().layers();
        Pass pass = new Pass(layers.size(), numDense());
        NDArray a = x;
        int j = 0;
        for (int i = 0; i < layers.size(); i++) {
            pass.layerInputs[i] = a;
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Dense) {
                pass.denseInputs[j] = a;
                a = JniUtils.linear((PtNDArray) a, (PtNDArray) p[2 * j], (PtNDArray) p[2 * j + 1]);
                j++;
            } else {
                a = activate(((Layer.Act) layer).activation(), a);
            }
            pass.layerOutputs[i] = a;
        }
        pass.output = a;
        return pass;
    }

    /**
     * Fills {@code pass.denseDeltas}: δ_j = ∂ℓ_i/∂z_j per sample, from the output error {@code delta}.
     * Every operation has an array of the work manager as receiver (parameters are only arguments).
     */
    private void backward(Pass pass, NDArray delta, NDArray[] p) {
        List<Layer> layers = spec().layers();
        int j = numDense() - 1;
        for (int i = layers.size() - 1; i >= 0 && j >= 0; i--) {
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Act act) {
                NDArray d = activationDerivative(act.activation(), pass.layerInputs[i], pass.layerOutputs[i]);
                if (d != null) {
                    delta = delta.mul(d);
                }
            } else {
                pass.denseDeltas[j] = delta;
                if (j > 0) {
                    delta = delta.matMul(p[2 * j]);
                }
                j--;
            }
        }
    }

    /** @return the flat gradient of the mean loss {@code [p]} */
    private NDArray meanGradient(Pass pass, int n) {
        return gradientSum(pass, scalar(pass.output.getManager(), 1.0 / n));
    }

    /** @return {@code Σ_i ∇θ ℓ_i} {@code [p]}, multiplied by {@code factor} (a scalar array) unless null */
    private NDArray gradientSum(Pass pass, NDArray factor) {
        NDList pieces = new NDList(2 * numDense());
        for (int j = 0; j < numDense(); j++) {
            NDArray delta = pass.denseDeltas[j];
            NDArray w = delta.transpose().matMul(pass.denseInputs[j]);
            NDArray b = delta.sum(new int[] {0});
            pieces.add((factor == null ? w : w.mul(factor)).reshape(-1));
            pieces.add(factor == null ? b : b.mul(factor));
        }
        return NDArrays.concat(pieces, 0);
    }

    /** @return {@code a}, or a copy of it if it was already handed out (one tensor per native array) */
    private static NDArray distinct(NDArray a, Set<NDArray> wrapped) {
        return wrapped.add(a) ? a : a.duplicate();
    }

    private static NDArray activate(Activation activation, NDArray z) {
        return switch (activation) {
            case RELU -> JniUtils.relu((PtNDArray) z);
            case TANH -> z.tanh();
            case SIGMOID -> JniUtils.sigmoid((PtNDArray) z);
            case IDENTITY -> z;
            case SOFTPLUS -> JniUtils.softPlus((PtNDArray) z);
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return dh/dz elementwise (differentiable where the activation is), or null for identity */
    private NDArray activationDerivative(Activation activation, NDArray z, NDArray h) {
        NDManager m = z.getManager();
        return switch (activation) {
            case RELU -> DjlKernels.maskValues(z.gt(scalar(m, 0)), dataType);
            case TANH -> scalar(m, 1).sub(h.square());
            case SIGMOID -> h.sub(h.square());
            case IDENTITY -> null;
            case SOFTPLUS -> JniUtils.sigmoid((PtNDArray) z);
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return d²h/dz² elementwise, or null where it is zero (identity, ReLU almost everywhere) */
    private NDArray activationSecondDerivative(Activation activation, NDArray z, NDArray h) {
        NDManager m = z.getManager();
        return switch (activation) {
            case RELU, IDENTITY -> null;
            case TANH -> h.mul(scalar(m, -2)).mul(scalar(m, 1).sub(h.square()));
            case SIGMOID -> h.sub(h.square()).mul(scalar(m, 1).sub(h.mul(scalar(m, 2))));
            case SOFTPLUS -> {
                NDArray s = JniUtils.sigmoid((PtNDArray) z);
                yield s.sub(s.square());
            }
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return per-sample losses {@code [n]} from outputs f {@code [n,K]} and targets */
    private NDArray perSampleLoss(NDArray f, NDArray y) {
        NDManager m = f.getManager();
        return switch (spec().loss()) {
            case MSE -> f.sub(y).square().sum(new int[] {1}).mul(scalar(m, 1.0 / spec().outputDim()));
            case SOFTMAX_CROSS_ENTROPY -> f.logSoftmax(1).mul(y).sum(new int[] {1}).neg();
            // log(1 + e^f) - y f, evaluated stably as max(f, 0) + log(1 + e^-|f|) - y f
            case BINARY_LOGISTIC -> f.maximum(scalar(m, 0)).sub(f.mul(y))
                    .add(f.abs().neg().exp().add(scalar(m, 1)).log())
                    .reshape(f.getShape().get(0));
        };
    }

    /** @return ∂ℓ_i/∂f_i per sample {@code [n,K]} */
    private NDArray outputDelta(NDArray f, NDArray y) {
        return switch (spec().loss()) {
            case MSE -> f.sub(y).mul(scalar(f.getManager(), 2.0 / spec().outputDim()));
            case SOFTMAX_CROSS_ENTROPY -> f.softmax(1).sub(y);
            case BINARY_LOGISTIC -> JniUtils.sigmoid((PtNDArray) f).sub(y);
        };
    }

    private NDArray features(NDManager m, Batch batch) {
        return PtArrays.owned(m, batch.features(), new Shape(batch.size(), batch.numFeatures()), dataType);
    }

    /** @return MSE targets {@code [n,K]}, one-hot class labels {@code [n,K]} or binary labels {@code [n,1]} */
    private NDArray targets(NDManager m, Batch batch) {
        return create(m, targetValues(batch), new Shape(batch.size(), spec().outputDim()));
    }

    private NDArray create(NDManager m, double[] data, Shape shape) {
        return PtArrays.owned(m, data, shape, dataType);
    }

    /** A libtorch-owned scalar in {@code m}; Java numbers are never passed to DJL ops (see {@link PtArrays}). */
    private NDArray scalar(NDManager m, double value) {
        return PtArrays.scalar(m, value, dataType);
    }

    /** @return a copy of {@code src} in the model dtype, owned by {@code m} */
    private NDArray copyInto(NDManager m, NDArray src) {
        NDArray copy = src.toType(dataType, true);
        copy.attach(m);
        return copy;
    }

    /** @return the parameter tensors of θ in {@link #manager} (libtorch-owned, see {@link PtArrays}) */
    private NDArray[] upload(double[] parameters) {
        return uploadEach(parameters, (part, shape) -> create(manager, part, new Shape(shape)), NDArray::close)
                .toArray(new NDArray[0]);
    }
}
