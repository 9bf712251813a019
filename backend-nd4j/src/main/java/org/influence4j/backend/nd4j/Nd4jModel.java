package org.influence4j.backend.nd4j;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A {@link ModelSpec} (Dense layers and elementwise activations, MSE / softmax cross-entropy /
 * binary logistic loss, float32 or float64) on ND4J, as a {@link TwiceDifferentiable} with
 * hand-written derivatives.
 *
 * <p><b>Conventions.</b> θ is flat in PyTorch {@code named_parameters()} order (each Dense: weight
 * {@code [out,in]} row-major, then bias {@code [out]}). Batch losses are means over samples; per-sample
 * losses follow {@link org.influence4j.api.model.Loss}. SOFTPLUS is {@code max(z,0) + log1p(e^-|z|)}
 * (PyTorch's {@code Softplus()} switches to z above z = 20, a difference below 2.1e-9·z).
 *
 * <p><b>How the derivatives are computed</b> (all batched over the n samples, no per-sample loop):
 * <ul>
 *   <li><em>forward</em> keeps every layer input and output;</li>
 *   <li><em>backward</em> gives the per-sample errors {@code g_i = ∂ℓ/∂(output of layer i)}; the
 *       Dense layer j's error δ_j {@code [n, out]} and input a_j {@code [n, in]} give the per-sample
 *       gradients {@code δ_j[s] ⊗ a_j[s]} and {@code δ_j[s]} and the mean gradient {@code δ_jᵀ a_j / n};</li>
 *   <li><em>Hessian-vector products</em> use Pearlmutter's R-operator {@code R_v{·} = d/dt (·)(θ + t v)|₀}:
 *       a forward R pass ({@code R{z} = R{a} Wᵀ + a V_Wᵀ + V_b}, {@code R{h} = σ'(z) R{z}}), the
 *       loss's second derivative ({@code R{∂ℓ/∂f} = ∇²_f ℓ · R{f}}), and a backward R pass
 *       ({@code R{g_in} = R{g_out} σ'(z) + g_out σ''(z) R{z}}, {@code R{g_a} = R{δ} W + δ V_W}) give
 *       {@code H v = R_v{∇θ L}} exactly (up to rounding) in about three times the cost of a gradient.
 *       A block of k vectors reuses one forward and backward pass, and its R passes take up to 128
 *       directions at once, their R-quantities side by side {@code [n, k·width]} so that each
 *       product is one matrix product;</li>
 *   <li><em>mixed derivatives</em> {@code ∇_{x_s} ⟨v, ∇θ ℓ_s⟩} are the R pass continued to the input:
 *       {@code R_v{∂ℓ_s/∂x_s}} (the mixed partials commute).</li>
 * </ul>
 *
 * <p><b>Memory.</b> Every temporary of a call is registered with an arena and closed (its native
 * buffer freed) before the call returns; results are new arrays outside ND4J workspaces that the
 * caller's scope owns. Parameters are closed by {@link #close()} and {@link #setParameters}.
 *
 * <p>Returned tensors belong to the caller's scope. Not thread-safe ({@link #isThreadSafe()} is false):
 * one instance must be used by one thread at a time. Holds native memory: close it. The accessors,
 * θ's host copy and the argument checks are those of {@link AbstractSpecModel}.
 */
public final class Nd4jModel extends AbstractSpecModel<Nd4jBackend, Nd4jTensorScope> {

    private final DataType type;
    /** Layer index of each Dense layer, in order. */
    private final int[] denseLayer;
    /** Dense ordinal of each layer (or -1 for activations). */
    private final int[] denseOrdinal;
    private INDArray[] weights;
    private INDArray[] biases;

    Nd4jModel(Nd4jBackend backend, ModelSpec spec, double[] parameters) {
        super(backend, spec, parameters);
        this.type = Nd4jDTypes.toNd4j(spec.dtype());
        List<Layer> layers = spec.layers();
        this.denseLayer = new int[numDense()];
        this.denseOrdinal = new int[layers.size()];
        int j = 0;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Layer.Dense) {
                denseLayer[j] = i;
                denseOrdinal[i] = j++;
            } else {
                denseOrdinal[i] = -1;
            }
        }
        upload(parameters);
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        INDArray[] oldW = weights;
        INDArray[] oldB = biases;
        upload(parameters);
        closeAll(oldW);
        closeAll(oldB);
    }

    @Override
    public Nd4jTensor forward(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        try (Nd4jArena ar = new Nd4jArena()) {
            return target.wrap(forward(ar, features(ar, batch)).output.dup('c'));
        }
    }

    @Override
    public double loss(Batch batch) {
        checkBatch(batch);
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            INDArray losses = perSampleLoss(ar, pass.output, targets(ar, batch));
            return mean(Nd4jArrays.toDoubles(losses));
        }
    }

    @Override
    public Nd4jTensor perSampleLosses(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            return target.wrap(perSampleLoss(ar, pass.output, targets(ar, batch)).dup('c'));
        }
    }

    @Override
    public Nd4jTensor gradient(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            backward(ar, pass, targets(ar, batch));
            INDArray g = Nd4j.create(type, numParameters());
            meanGradientInto(ar, pass, g, batch.size());
            return target.wrap(g);
        }
    }

    @Override
    public Nd4jTensor perSampleGradients(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        int n = batch.size();
        INDArray out = outside(n, numParameters());
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            backward(ar, pass, targets(ar, batch));
            for (int j = 0; j < numDense(); j++) {
                INDArray delta = pass.grads[denseLayer[j]];
                INDArray a = pass.inputs[denseLayer[j]];
                int in = (int) a.size(1);
                int width = (int) delta.size(1);
                int offset = layout().get(2 * j).offset();
                for (int o = 0; o < width; o++) {
                    out.get(NDArrayIndex.all(), NDArrayIndex.interval(offset + (long) o * in, offset + (long) (o + 1) * in))
                            .assign(a).muliColumnVector(delta.getColumn(o).reshape(n, 1));
                }
                int biasOffset = layout().get(2 * j + 1).offset();
                out.get(NDArrayIndex.all(), NDArrayIndex.interval(biasOffset, biasOffset + width)).assign(delta);
            }
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
        return target.wrap(out);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code v} is not an nd4j vector of shape {@code [p]}
     */
    @Override
    public Nd4jTensor hvp(Batch batch, Tensor v, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(v, "v");
        requireVector(vt, "v");
        return hvpResult(target, batch, vt.array(), numParameters());
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code vs} is not an nd4j matrix of shape {@code [k, p]}
     */
    @Override
    public Nd4jTensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(vs, "vs");
        long k = requireBlock(vt, "vs");
        return hvpResult(target, batch, vt.array(), k, numParameters());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Computed as the R-operator passes of the p unit vectors (128 directions per pass) on one
     * forward/backward pass, then symmetrised ({@code (H + Hᵀ)/2}, a change at rounding level). Costs
     * p/128 R passes and {@code p²} memory: meant for small p.
     */
    @Override
    public Nd4jTensor hessian(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        warnIfLargeHessian("R-operator passes");
        int p = numParameters();
        INDArray out = outside(p, p);
        try {
            INDArray eye;
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                eye = Nd4j.zeros(type, p, p);
                for (int i = 0; i < p; i++) {
                    eye.putScalar(new long[] {i, i}, 1.0);
                }
            }
            try {
                hvpRowsInto(batch, eye, out);
            } finally {
                eye.close();
            }
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                INDArray t = out.transpose().dup('c');
                out.addi(t).muli(0.5);
                t.close();
            }
            return target.wrap(out);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>These are the layer inputs and output errors of the explicit backward pass that also gives
     * {@link #perSampleGradients}.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        List<DenseLayerFactors> out = new ArrayList<>(numDense());
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            backward(ar, pass, targets(ar, batch));
            for (int j = 0; j < numDense(); j++) {
                INDArray a = pass.inputs[denseLayer[j]];
                INDArray d = pass.grads[denseLayer[j]];
                out.add(denseFactors(j, target.wrap(a.dup('c')), target.wrap(d.dup('c'))));
            }
        }
        return List.copyOf(out);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: {@code ⟨v, ∇θ ℓ_s⟩} is the R-operator {@code R_v{ℓ_s}}, and its gradient in x_s equals
     * {@code R_v{∂ℓ_s/∂x_s}} (mixed partials commute), which the backward R pass gives for all s at
     * once when it is continued down to the input, {@value #DIRECTIONS_PER_PASS} rows of {@code vs} per
     * pass.
     *
     * @throws IllegalArgumentException if {@code vs} is not an nd4j matrix of shape {@code [k, p]}
     */
    @Override
    public Nd4jTensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(vs, "vs");
        int k = Math.toIntExact(requireBlock(vt, "vs"));
        int n = batch.size();
        int d = spec().inputDim();
        INDArray out = outside(k, n, d);
        try {
            if (k > 0) {
                try (Nd4jArena ar = new Nd4jArena()) {
                    Pass pass = forward(ar, features(ar, batch));
                    backward(ar, pass, targets(ar, batch));
                    INDArray v = vt.array().dataType() == type ? vt.array() : ar.t(vt.array().castTo(type));
                    // R{∂ℓ_s/∂x_s} of a block comes side by side, [n, rows·d]: out wants [rows, n, d]
                    inDirectionBlocks(v, (inner, block, from, to) -> out.get(NDArrayIndex.interval(from, to),
                            NDArrayIndex.all(), NDArrayIndex.all()).assign(rPass(inner, pass, block, n, true)
                            .reshape('c', new long[] {n, to - from, d}).permute(1, 0, 2)));
                }
            }
            return target.wrap(out);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    @Override
    protected void releaseNative() {
        closeAll(weights);
        closeAll(biases);
    }

    @Override
    protected Nd4jTensorScope requireScope(TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(Nd4jTensorScope scope) {
        return scope.isClosed();
    }

    // ---------------------------------------------------------------------------------------------

    /** Arrays of one forward (and backward) pass; all are temporaries of the call's arena. */
    private static final class Pass {
        /** Input of layer i, {@code [n, width]}. */
        final INDArray[] inputs;
        /** Output of layer i. */
        final INDArray[] outputs;
        /** ∂ℓ_s/∂(output of layer i) per sample (filled by backward). */
        final INDArray[] grads;
        INDArray output;

        Pass(int layers) {
            inputs = new INDArray[layers];
            outputs = new INDArray[layers];
            grads = new INDArray[layers];
        }
    }

    /**
     * @param shape {@code [p]} for a vector {@code vs}, {@code [k, p]} for a block
     * @return H·vs (a block's rows 128 directions per R pass) in a new array of {@code shape} owned by
     *     {@code target}
     */
    private Nd4jTensor hvpResult(Nd4jTensorScope target, Batch batch, INDArray vs, long... shape) {
        INDArray out = outside(shape);
        try {
            if (out.length() > 0) {
                hvpRowsInto(batch, vs, out);
            }
            return target.wrap(out);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * Writes H · vs[r,:] into row r of {@code out} ({@code [k,p]}, outside workspaces), or H · vs into
     * {@code out} when both are vectors {@code [p]}: one forward and backward pass, then an R pass per
     * {@value #DIRECTIONS_PER_PASS} directions.
     */
    private void hvpRowsInto(Batch batch, INDArray vs, INDArray out) {
        int n = batch.size();
        try (Nd4jArena ar = new Nd4jArena()) {
            Pass pass = forward(ar, features(ar, batch));
            backward(ar, pass, targets(ar, batch));
            INDArray v = vs.dataType() == type ? vs : ar.t(vs.castTo(type));
            if (v.rank() == 1) {
                try (Nd4jArena inner = new Nd4jArena()) {
                    INDArray row = rPass(inner, pass, v.reshape('c', new long[] {1, v.length()}), n, false);
                    out.assign(row.reshape('c', new long[] {out.length()}));
                }
                return;
            }
            inDirectionBlocks(v, (inner, block, from, to) -> out.get(NDArrayIndex.interval(from, to),
                    NDArrayIndex.all()).assign(rPass(inner, pass, block, n, false)));
        }
    }

    /** Directions per R-pass of {@link #rPass}: bounds its {@code [n, k·width]} work arrays. */
    private static final int DIRECTIONS_PER_PASS = 128;

    /** What is done with one block of directions, rows {@code [from, to)} of {@code v}. */
    @FunctionalInterface
    private interface DirectionBlock {
        void accept(Nd4jArena ar, INDArray block, long from, long to);
    }

    /**
     * Hands the rows of {@code v [k, p]} over {@value #DIRECTIONS_PER_PASS} at a time, each block with an
     * arena of its own (closed before the next block).
     */
    private static void inDirectionBlocks(INDArray v, DirectionBlock body) {
        long k = v.size(0);
        for (long from = 0; from < k; from += DIRECTIONS_PER_PASS) {
            long to = Math.min(k, from + DIRECTIONS_PER_PASS);
            try (Nd4jArena inner = new Nd4jArena()) {
                INDArray block = k <= DIRECTIONS_PER_PASS ? v
                        : inner.t(v.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup('c'));
                body.accept(inner, block, from, to);
            }
        }
    }

    /**
     * One R-operator pass along the k parameter directions {@code v} ({@code [k, p]}) at once. The
     * R-quantities of all directions sit side by side, {@code [n, k·width]} (sample s, direction d,
     * unit u at column {@code d·width + u}), so that the layer products are single matrix products on
     * the views {@code [n·k, width]} and the per-sample factors broadcast over the directions; only
     * arrays of the size of the directions themselves are rearranged.
     *
     * @param toInput false: the Hessian rows; true: continue the backward R pass to the input instead
     * @return {@code H v_d} in row d, {@code [k, p]} (mean loss), or with {@code toInput}
     *     {@code R{∂ℓ_s/∂x_s}} {@code [n, k·inputDim]}; an arena temporary
     */
    private INDArray rPass(Nd4jArena ar, Pass pass, INDArray v, int n, boolean toInput) {
        long k = v.size(0);
        List<Layer> layers = spec().layers();
        INDArray[] vw = new INDArray[numDense()];
        INDArray[] vb = new INDArray[numDense()];
        for (int j = 0; j < numDense(); j++) {
            ParameterInfo wi = layout().get(2 * j);
            ParameterInfo bi = layout().get(2 * j + 1);
            vw[j] = ar.t(v.get(NDArrayIndex.all(), NDArrayIndex.interval(wi.offset(), wi.offset() + wi.size()))
                    .dup('c')).reshape('c', new long[] {k, wi.shape()[0], wi.shape()[1]});
            vb[j] = ar.t(v.get(NDArrayIndex.all(), NDArrayIndex.interval(bi.offset(), bi.offset() + bi.size()))
                    .dup('c'));
        }
        // forward R pass: rIn[i] = R{input of layer i} (null means zero), [n, k·width]
        INDArray[] rIn = new INDArray[layers.size()];
        INDArray r = null;
        for (int i = 0; i < layers.size(); i++) {
            rIn[i] = r;
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Dense) {
                int j = denseOrdinal[i];
                long out = vw[j].size(1);
                long in = vw[j].size(2);
                // a_s V_W[d]ᵀ + v_b[d]: one product with the directions' weights side by side [in, k·out]
                INDArray rz = ar.t(Nd4j.gemm(pass.inputs[i], vw[j].reshape('c', new long[] {k * out, in}), false, true));
                rz.addiRowVector(vb[j].reshape('c', new long[] {k * out}));
                if (r != null) {
                    rz.addi(ar.t(Nd4j.gemm(r.reshape('c', new long[] {n * k, in}), weights[j], false, true))
                            .reshape('c', new long[] {n, k * out}));
                }
                r = rz;
            } else if (r != null) {
                INDArray d = derivative(ar, ((Layer.Act) layer).activation(), pass.inputs[i], pass.outputs[i]);
                r = d == null ? r : bySample(ar, r, d, k);
            }
        }
        INDArray rg = outputGradR(ar, pass.output, r, k);
        INDArray hv = toInput ? null : ar.t(Nd4j.create(type, k, numParameters()));
        for (int i = layers.size() - 1; i >= (toInput ? 0 : denseLayer[0]); i--) {
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Dense) {
                int j = denseOrdinal[i];
                long out = vw[j].size(1);
                long in = vw[j].size(2);
                INDArray delta = pass.grads[i];
                if (!toInput) {
                    addHessianRows(ar, hv, j, rg, pass.inputs[i], delta, rIn[i], vw[j], n);
                }
                if (toInput || i > denseLayer[0]) {
                    // R{∂ℓ/∂a} = R{δ} W + δ V_W[d]; V_W side by side [out, k·in]
                    INDArray directions = directionMajor(ar, vw[j], out, k * in);
                    INDArray next = ar.t(rg.reshape('c', new long[] {n * k, out}).mmul(weights[j]))
                            .reshape('c', new long[] {n, k * in});
                    rg = next.addi(ar.t(delta.mmul(directions)));
                }
            } else {
                Activation act = ((Layer.Act) layer).activation();
                INDArray d1 = derivative(ar, act, pass.inputs[i], pass.outputs[i]);
                INDArray next = d1 == null ? ar.t(rg.dup()) : bySample(ar, rg, d1, k);
                if (rIn[i] != null) {
                    INDArray d2 = secondDerivative(ar, act, pass.inputs[i], pass.outputs[i]);
                    if (d2 != null) {
                        next.addi(bySample(ar, rIn[i], ar.t(pass.grads[i].mul(d2)), k));
                    }
                }
                rg = next;
            }
        }
        return toInput ? rg : hv;
    }

    /**
     * Writes the mean-loss Hessian rows of Dense layer j into {@code hv [k, p]}:
     * {@code R{∇W}[d] = Σ_s R{δ}_{s,d}ᵀ a_s + δ_sᵀ R{a}_{s,d}} (rows (d, o) of {@code [k·out, in]}) and
     * {@code R{∇b}[d] = Σ_s R{δ}_{s,d}}, divided by n.
     *
     * @param rg  R{δ} {@code [n, k·out]}
     * @param rIn R{a} {@code [n, k·in]}, or null (zero)
     */
    private void addHessianRows(Nd4jArena ar, INDArray hv, int j, INDArray rg, INDArray a, INDArray delta,
                                INDArray rIn, INDArray vwj, int n) {
        long k = vwj.size(0);
        long out = vwj.size(1);
        long in = vwj.size(2);
        INDArray rw = ar.t(Nd4j.gemm(rg, a, true, false));
        if (rIn != null) {
            INDArray dt = ar.t(Nd4j.gemm(delta, rIn, true, false));
            rw.addi(directionMajor(ar, dt.reshape('c', new long[] {out, k, in}), k * out, in));
        }
        INDArray rb = ar.t(rg.sum(0));
        ParameterInfo wi = layout().get(2 * j);
        ParameterInfo bi = layout().get(2 * j + 1);
        hv.get(NDArrayIndex.all(), NDArrayIndex.interval(wi.offset(), wi.offset() + wi.size()))
                .assign(rw.reshape('c', new long[] {k, out * in}).muli(1.0 / n));
        hv.get(NDArrayIndex.all(), NDArrayIndex.interval(bi.offset(), bi.offset() + bi.size()))
                .assign(rb.reshape('c', new long[] {k, out}).muli(1.0 / n));
    }

    /**
     * @return {@code sideBySide [n, k·w]} times {@code x [n, w]} in every direction's columns
     *     (broadcast over the k directions, without copying x k times)
     */
    private static INDArray bySample(Nd4jArena ar, INDArray sideBySide, INDArray x, long k) {
        long n = x.size(0);
        long w = x.size(1);
        return ar.t(sideBySide.reshape('c', new long[] {n, k, w}).mul(x.reshape('c', new long[] {n, 1, w})))
                .reshape('c', new long[] {n, k * w});
    }

    /** @return {@code a [d0, d1, d2]} with its first two axes swapped, copied, as the matrix {@code [rows, cols]} */
    private static INDArray directionMajor(Nd4jArena ar, INDArray a, long rows, long cols) {
        return ar.t(a.permute(1, 0, 2).dup('c')).reshape('c', new long[] {rows, cols});
    }

    private Pass forward(Nd4jArena ar, INDArray x) {
        List<Layer> layers = spec().layers();
        Pass pass = new Pass(layers.size());
        INDArray a = x;
        for (int i = 0; i < layers.size(); i++) {
            pass.inputs[i] = a;
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Dense) {
                int j = denseOrdinal[i];
                a = ar.t(a.mmul(weights[j].transpose())).addiRowVector(biases[j]);
            } else {
                a = activate(ar, ((Layer.Act) layer).activation(), a);
            }
            pass.outputs[i] = a;
        }
        pass.output = a;
        return pass;
    }

    /** Fills {@code pass.grads} down to the first Dense layer. */
    private void backward(Nd4jArena ar, Pass pass, INDArray y) {
        List<Layer> layers = spec().layers();
        INDArray g = outputGrad(ar, pass.output, y);
        for (int i = layers.size() - 1; i >= denseLayer[0]; i--) {
            pass.grads[i] = g;
            if (i == denseLayer[0]) {
                break;
            }
            Layer layer = layers.get(i);
            if (layer instanceof Layer.Act act) {
                INDArray d = derivative(ar, act.activation(), pass.inputs[i], pass.outputs[i]);
                g = d == null ? g : ar.t(g.mul(d));
            } else {
                g = ar.t(g.mmul(weights[denseOrdinal[i]]));
            }
        }
    }

    /** Writes the mean gradient {@code [p]} into {@code g}. */
    private void meanGradientInto(Nd4jArena ar, Pass pass, INDArray g, int n) {
        for (int j = 0; j < numDense(); j++) {
            INDArray delta = pass.grads[denseLayer[j]];
            INDArray a = pass.inputs[denseLayer[j]];
            putGradient(ar, g, j, ar.t(delta.transpose().mmul(a)), ar.t(delta.sum(0)), 1.0 / n);
        }
    }

    /** Writes {@code scale·w} (a matrix {@code [out,in]}) and {@code scale·b} into the slots of Dense layer j. */
    private void putGradient(Nd4jArena ar, INDArray target, int j, INDArray w, INDArray b, double scale) {
        ParameterInfo wi = layout().get(2 * j);
        ParameterInfo bi = layout().get(2 * j + 1);
        target.get(NDArrayIndex.interval(wi.offset(), wi.offset() + wi.size()))
                .assign(ar.t(Nd4jArrays.reshapedCopy(w, new long[] {wi.size()})).muli(scale));
        target.get(NDArrayIndex.interval(bi.offset(), bi.offset() + bi.size()))
                .assign(ar.t(Nd4jArrays.reshapedCopy(b, new long[] {bi.size()})).muli(scale));
    }

    private static INDArray activate(Nd4jArena ar, Activation activation, INDArray z) {
        return switch (activation) {
            case RELU -> ar.t(Transforms.relu(z, true));
            case TANH -> ar.t(Transforms.tanh(z, true));
            case SIGMOID -> ar.t(Transforms.sigmoid(z, true));
            case IDENTITY -> z;
            case SOFTPLUS -> softplus(ar, z);
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return {@code max(z,0) + log1p(exp(-|z|))}, a stable log(1 + e^z) */
    private static INDArray softplus(Nd4jArena ar, INDArray z) {
        INDArray t = ar.t(Transforms.abs(z, true)).negi();
        Transforms.exp(t, false);
        Transforms.log1p(t, false);
        return t.addi(ar.t(Transforms.max(z, 0.0, true)));
    }

    /** @return σ'(z) elementwise, or null for identity */
    private INDArray derivative(Nd4jArena ar, Activation activation, INDArray z, INDArray h) {
        return switch (activation) {
            case RELU -> ar.t(ar.t(z.gt(0.0)).castTo(type));
            case TANH -> ar.t(h.mul(h)).rsubi(1.0);
            case SIGMOID -> ar.t(h.rsub(1.0)).muli(h);
            case IDENTITY -> null;
            case SOFTPLUS -> ar.t(Transforms.sigmoid(z, true));
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return σ''(z) elementwise, or null where it is zero (relu almost everywhere, identity) */
    private static INDArray secondDerivative(Nd4jArena ar, Activation activation, INDArray z, INDArray h) {
        return switch (activation) {
            case RELU, IDENTITY -> null;
            // d/dz (1 - h²) = -2 h (1 - h²)
            case TANH -> ar.t(h.mul(h)).rsubi(1.0).muli(h).muli(-2.0);
            // d/dz h(1-h) = h(1-h)(1-2h)
            case SIGMOID -> ar.t(h.rsub(1.0)).muli(h).muli(ar.t(h.mul(-2.0)).addi(1.0));
            case SOFTPLUS -> {
                INDArray s = ar.t(Transforms.sigmoid(z, true));
                yield ar.t(s.rsub(1.0)).muli(s);
            }
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** @return per-sample losses {@code [n]} from outputs f {@code [n,K]} and targets */
    private INDArray perSampleLoss(Nd4jArena ar, INDArray f, INDArray y) {
        long[] n = {f.size(0)};
        return switch (spec().loss()) {
            case MSE -> {
                INDArray diff = ar.t(f.sub(y));
                INDArray sums = ar.t(diff.muli(diff).sum(1));
                yield ar.t(Nd4jArrays.reshapedCopy(sums, n)).muli(1.0 / spec().outputDim());
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                INDArray max = ar.t(f.max(1));
                INDArray shifted = ar.t(f.subColumnVector(max.reshape(n[0], 1)));
                INDArray lse = ar.t(ar.t(Transforms.exp(shifted, true)).sum(1));
                Transforms.log(lse, false);
                INDArray picked = ar.t(shifted.muli(y).sum(1));
                yield ar.t(Nd4jArrays.reshapedCopy(lse.subi(picked), n));
            }
            // log(1 + e^f) - y f  =  max(f,0) + log1p(e^-|f|) - y f
            case BINARY_LOGISTIC -> ar.t(Nd4jArrays.reshapedCopy(softplus(ar, f).subi(ar.t(f.mul(y))), n));
        };
    }

    /** @return ∂ℓ_s/∂f_s per sample {@code [n,K]} */
    private INDArray outputGrad(Nd4jArena ar, INDArray f, INDArray y) {
        return switch (spec().loss()) {
            case MSE -> ar.t(f.sub(y)).muli(2.0 / spec().outputDim());
            case SOFTMAX_CROSS_ENTROPY -> softmax(ar, f).subi(y);
            case BINARY_LOGISTIC -> ar.t(Transforms.sigmoid(f, true)).subi(y);
        };
    }

    /**
     * @param f  the outputs {@code [n, K]}
     * @param rf R{f} of k directions side by side, {@code [n, k·K]}
     * @return R{∂ℓ/∂f} = ∇²_f ℓ · R{f} per sample and direction, {@code [n, k·K]}
     */
    private INDArray outputGradR(Nd4jArena ar, INDArray f, INDArray rf, long k) {
        long n = f.size(0);
        long classes = f.size(1);
        return switch (spec().loss()) {
            case MSE -> ar.t(rf.mul(2.0 / spec().outputDim()));
            case SOFTMAX_CROSS_ENTROPY -> {
                // (diag(p) - p pᵀ) r = p ⊙ r - p (p · r), the dots (p · r) [n, k, 1] times p [n, 1, K] per sample
                INDArray p = softmax(ar, f);
                INDArray pr = bySample(ar, rf, p, k);
                INDArray dots = ar.t(pr.reshape('c', new long[] {n, k, classes}).sum(true, 2));
                INDArray scaled = ar.t(Nd4j.matmul(dots, p.reshape('c', new long[] {n, 1, classes})));
                yield pr.subi(scaled.reshape('c', new long[] {n, k * classes}));
            }
            case BINARY_LOGISTIC -> {
                INDArray s = ar.t(Transforms.sigmoid(f, true));
                yield bySample(ar, rf, ar.t(s.rsub(1.0)).muli(s), k);
            }
        };
    }

    private static INDArray softmax(Nd4jArena ar, INDArray f) {
        long n = f.size(0);
        INDArray max = ar.t(f.max(1));
        INDArray e = Transforms.exp(ar.t(f.subColumnVector(max.reshape(n, 1))), false);
        INDArray sums = ar.t(e.sum(1));
        return e.diviColumnVector(sums.reshape(n, 1));
    }

    private INDArray features(Nd4jArena ar, Batch batch) {
        return ar.t(Nd4jArrays.create(batch.features(), new long[] {batch.size(), batch.numFeatures()}, type));
    }

    /** @return MSE targets {@code [n,K]}, one-hot class labels {@code [n,K]} or binary labels {@code [n,1]} */
    private INDArray targets(Nd4jArena ar, Batch batch) {
        return ar.t(Nd4jArrays.create(targetValues(batch), new long[] {batch.size(), spec().outputDim()}, type));
    }

    /** Replaces {@link #weights} and {@link #biases} by new arrays of θ outside every workspace. */
    private void upload(double[] parameters) {
        List<INDArray> all;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            all = uploadEach(parameters, (part, shape) -> Nd4jArrays.create(part, shape, type),
                    Nd4jModel::close);
        }
        INDArray[] w = new INDArray[numDense()];
        INDArray[] b = new INDArray[numDense()];
        for (int j = 0; j < numDense(); j++) {
            w[j] = all.get(2 * j);
            b[j] = all.get(2 * j + 1);
        }
        weights = w;
        biases = b;
    }

    /** @return a new zero array outside every workspace (for results written piecewise) */
    private INDArray outside(long... shape) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.zeros(type, shape);
        }
    }

    private static void closeAll(INDArray[] arrays) {
        if (arrays == null) {
            return;
        }
        for (INDArray a : arrays) {
            close(a);
        }
    }

    private static void close(INDArray a) {
        if (a != null && a.closeable()) {
            a.close();
        }
    }
}
