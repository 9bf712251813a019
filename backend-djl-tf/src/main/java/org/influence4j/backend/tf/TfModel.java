package org.influence4j.backend.tf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.backend.djl.DjlDTypes;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TNumber;

/**
 * A {@link ModelSpec} (Dense layers and elementwise activations, MSE / softmax cross-entropy /
 * binary logistic loss, float32 or float64) as a TensorFlow graph run by a TF-Java {@link Session},
 * as a {@link TwiceDifferentiable}.
 *
 * <p><b>Conventions.</b> θ is flat in PyTorch {@code named_parameters()} order (each Dense: weight
 * {@code [out,in]} row-major, then bias {@code [out]}); each parameter tensor is a graph input fed
 * from a TensorFlow tensor the model keeps. Batch losses are means over samples; per-sample losses
 * follow {@link org.influence4j.api.model.Loss}.
 *
 * <p><b>How the derivatives are computed</b> (see {@link TfModelGraph}): the graph is built once, with
 * {@code Graph.addGradients} (TensorFlow's C++ symbolic gradients) called twice with explicit seeds —
 * first for ∂L/∂θ and the per-layer output errors δ, then, seeded with a direction v, for the exact
 * Hessian-vector product and the mixed product ∂⟨∂L/∂θ, v⟩/∂x. Per-sample gradients are batched outer
 * products of δ and the layer inputs, one session run for the whole batch. {@link #hvpBlock} uses a
 * block graph (built on first use) with {@value TfModelGraph#BLOCK} seeded second-order gradients on
 * one shared first-order graph, so a session run computes up to that many HVPs;
 * {@link #mixedGradientProducts} runs its graph once per row of the block.
 *
 * <p><b>Tensors.</b> Batches and directions are copied from the host (or from the scope's eager
 * tensors) into TensorFlow tensors for each session run; results are copied into eager tensors of the
 * caller's scope. Every TensorFlow tensor of a run is closed before the call returns.
 *
 * <p>Not thread-safe ({@link #isThreadSafe()} is false): one instance must be used by one thread at a
 * time. Holds native memory (graph, session, parameters): close it. The accessors, θ's host copy and
 * the argument checks are those of {@link AbstractSpecModel}.
 */
public final class TfModel extends AbstractSpecModel<TfBackend, TfTensorScope> {

    /**
     * Grappler's graph rewrites and the classic graph optimizer are switched off: they cost 0.1-0.4 s
     * per new (feeds, fetches) signature of every model, and the graph is evaluated exactly as built.
     */
    private static final ConfigProto SESSION_CONFIG = ConfigProto.newBuilder()
            .setGraphOptions(GraphOptions.newBuilder()
                    .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true))
                    .setOptimizerOptions(OptimizerOptions.newBuilder().setOptLevel(OptimizerOptions.Level.L0)))
            .build();

    private final DataType dataType;
    private final TfModelGraph<? extends TNumber> g;
    private final Session session;
    private org.tensorflow.Tensor[] params;

    TfModel(TfBackend backend, ModelSpec spec, double[] parameters) {
        super(backend, spec, parameters);
        this.dataType = DjlDTypes.toDjl(spec.dtype());
        this.g = spec.dtype() == DType.FLOAT64 ? new TfModelGraph<>(spec, TFloat64.class)
                : new TfModelGraph<>(spec, TFloat32.class);
        Session s = null;
        try {
            s = new Session(g.graph, SESSION_CONFIG);
            this.params = upload(parameters);
        } catch (RuntimeException e) {
            if (s != null) {
                s.close();
            }
            g.close();
            throw e;
        }
        this.session = s;
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        org.tensorflow.Tensor[] fresh = upload(parameters);
        org.tensorflow.Tensor[] old = params;
        params = fresh;
        closeAll(old);
    }

    @Override
    public TfTensor forward(Batch batch, TensorScope scope) {
        return fetch(checkCall(batch, scope), batch, 1.0, g.output);
    }

    @Override
    public double loss(Batch batch) {
        checkBatch(batch);
        try (Run run = new Run(batch, 1.0, null); Result r = run.fetch(g.perSampleLosses)) {
            return mean(read(r.get(0)));
        }
    }

    @Override
    public TfTensor perSampleLosses(Batch batch, TensorScope scope) {
        return fetch(checkCall(batch, scope), batch, 1.0, g.perSampleLosses);
    }

    @Override
    public TfTensor gradient(Batch batch, TensorScope scope) {
        return fetch(checkCall(batch, scope), batch, 1.0 / batch.size(), g.gradient);
    }

    @Override
    public TfTensor perSampleGradients(Batch batch, TensorScope scope) {
        return fetch(checkCall(batch, scope), batch, 1.0, g.perSampleGradients);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code v} is not a djl-tf vector of shape {@code [p]}
     */
    @Override
    public TfTensor hvp(Batch batch, Tensor v, TensorScope scope) {
        TfTensorScope target = checkCall(batch, scope);
        TfTensor vt = TfTensor.require(v, "v");
        requireVector(vt, "v");
        double[] hv = hvpRows(batch, DjlDTypes.toDoubles(vt.ndArray()), 1);
        return target.wrap(TfDTypes.create(target.manager(), hv, new Shape(numParameters()), dataType));
    }

    /**
     * {@inheritDoc}
     *
     * <p>One session run per {@value TfModelGraph#BLOCK} rows of {@code vs}: the forward and first
     * backward pass are shared by the rows of a run.
     *
     * @throws IllegalArgumentException if {@code vs} is not a djl-tf matrix of shape {@code [k, p]}
     */
    @Override
    public TfTensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        TfTensorScope target = checkCall(batch, scope);
        TfTensor vt = TfTensor.require(vs, "vs");
        int k = Math.toIntExact(requireBlock(vt, "vs"));
        double[] out = hvpRows(batch, DjlDTypes.toDoubles(vt.ndArray()), k);
        return target.wrap(TfDTypes.create(target.manager(), out, new Shape(k, numParameters()), dataType));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Computed as the p Hessian-vector products of the unit vectors, then symmetrised
     * ({@code (H + Hᵀ)/2}, a change at rounding level) so that the result is exactly symmetric.
     * Costs p HVPs and {@code p²} memory: meant for small p.
     */
    @Override
    public TfTensor hessian(Batch batch, TensorScope scope) {
        TfTensorScope target = checkCall(batch, scope);
        warnIfLargeHessian("session runs");
        int p = numParameters();
        double[] eye = new double[p * p];
        for (int i = 0; i < p; i++) {
            eye[i * p + i] = 1;
        }
        double[] h = hvpRows(batch, eye, p);
        double[] sym = new double[p * p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                sym[i * p + j] = 0.5 * (h[i * p + j] + h[j * p + i]);
            }
        }
        return target.wrap(TfDTypes.create(target.manager(), sym, new Shape(p, p), dataType));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The layer inputs and the output errors δ of the same session run that gives
     * {@link #perSampleGradients}.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        TfTensorScope target = checkCall(batch, scope);
        int numDense = g.denseInputs.length;
        Output<?>[] fetches = new Output<?>[2 * numDense];
        for (int j = 0; j < numDense; j++) {
            fetches[2 * j] = g.denseInputs[j];
            fetches[2 * j + 1] = g.denseDeltas[j];
        }
        try (Run run = new Run(batch, 1.0, null); Result r = run.fetch(fetches)) {
            List<DenseLayerFactors> out = new ArrayList<>(numDense);
            for (int j = 0; j < numDense; j++) {
                out.add(denseFactors(j, target.wrap(toNDArray(r.get(2 * j), target.manager())),
                        target.wrap(toNDArray(r.get(2 * j + 1), target.manager()))));
            }
            return List.copyOf(out);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: {@code ∂⟨Σ_i ∇θ ℓ_i, v⟩/∂x} from the second symbolic gradient, one session run per row
     * of {@code vs} (∇θ ℓ_i depends on x_i only, so row i of the result is ∇_{x_i}⟨v, ∇θ ℓ_i⟩).
     *
     * @throws IllegalArgumentException if {@code vs} is not a djl-tf matrix of shape {@code [k, p]}
     */
    @Override
    public TfTensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        TfTensorScope target = checkCall(batch, scope);
        TfTensor vt = TfTensor.require(vs, "vs");
        int k = Math.toIntExact(requireBlock(vt, "vs"));
        int n = batch.size();
        int p = numParameters();
        int inputDim = spec().inputDim();
        double[] out = new double[k * n * inputDim];
        double[] all = DjlDTypes.toDoubles(vt.ndArray());
        for (int r = 0; r < k; r++) {
            double[] row = Arrays.copyOfRange(all, r * p, (r + 1) * p);
            try (Run run = new Run(batch, 1.0, row); Result res = run.fetch(g.mixed)) {
                double[] m = read(res.get(0));
                System.arraycopy(m, 0, out, r * m.length, m.length);
            }
        }
        return target.wrap(TfDTypes.create(target.manager(), out, new Shape(k, n, inputDim), dataType));
    }

    @Override
    protected void releaseNative() {
        closeAll(params);
        session.close();
        g.close();
    }

    @Override
    protected TfTensorScope requireScope(TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(TfTensorScope scope) {
        return scope.isClosed();
    }

    // ---------------------------------------------------------------------------------------------

    /** The feeds of one session run: batch, loss weight and (optionally) directions; closes its tensors. */
    private final class Run implements AutoCloseable {
        private final List<org.tensorflow.Tensor> owned = new ArrayList<>();
        private final Session.Runner runner;

        Run(Batch batch, double scale, double[] direction) {
            try {
                runner = session.runner();
                for (int q = 0; q < params.length; q++) {
                    runner.feed(g.params.get(q), params[q]);
                }
                int n = batch.size();
                runner.feed(g.x, own(tensor(batch.features(), n, batch.numFeatures())));
                runner.feed(g.y, own(tensor(targetValues(batch), n, spec().outputDim())));
                runner.feed(g.scale, own(tensor(new double[] {scale})));
                if (direction != null) {
                    direction(g.directions, direction, 0);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** Feeds {@code values[offset, offset + p)} into one placeholder per parameter tensor. */
        void direction(List<? extends org.tensorflow.Operand<?>> placeholders, double[] values, int offset) {
            List<ParameterInfo> layout = layout();
            for (int q = 0; q < layout.size(); q++) {
                ParameterInfo info = layout.get(q);
                runner.feed(placeholders.get(q), own(tensor(slice(values, info, offset), info.shape())));
            }
        }

        private org.tensorflow.Tensor own(org.tensorflow.Tensor t) {
            owned.add(t);
            return t;
        }

        Result fetch(Output<?>... outputs) {
            for (Output<?> o : outputs) {
                runner.fetch(o);
            }
            return runner.run();
        }

        @Override
        public void close() {
            closeAll(owned.toArray(new org.tensorflow.Tensor[0]));
        }
    }

    /**
     * One session run without directions that fetches {@code output}.
     *
     * @param target the (checked) scope of the result
     * @param scale  the loss weight fed to the graph ({@code 1/n} for the mean-loss gradient)
     * @return an eager copy of the fetched tensor in {@code target}
     */
    private TfTensor fetch(TfTensorScope target, Batch batch, double scale, Output<?> output) {
        try (Run run = new Run(batch, scale, null); Result r = run.fetch(output)) {
            return target.wrap(toNDArray(r.get(0), target.manager()));
        }
    }

    /**
     * H·v for the k rows of {@code vs} (row-major {@code [k,p]}): one run of the single-HVP graph when
     * k = 1, else runs of the block graph, each computing up to {@link TfModelGraph#BLOCK} rows.
     */
    private double[] hvpRows(Batch batch, double[] vs, int k) {
        int p = numParameters();
        double[] out = new double[k * p];
        if (k == 1) {
            try (Run run = new Run(batch, 1.0 / batch.size(), vs); Result res = run.fetch(g.hvp)) {
                System.arraycopy(read(res.get(0)), 0, out, 0, p);
            }
            return out;
        }
        var slots = g.blockDirections();
        for (int start = 0; start < k; start += TfModelGraph.BLOCK) {
            int rows = Math.min(TfModelGraph.BLOCK, k - start);
            Output<?>[] fetches = new Output<?>[rows];
            try (Run run = new Run(batch, 1.0 / batch.size(), null)) {
                for (int r = 0; r < rows; r++) {
                    run.direction(slots.get(r), vs, (start + r) * p);
                    fetches[r] = g.blockHvp(r);
                }
                try (Result res = run.fetch(fetches)) {
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(read(res.get(r)), 0, out, (start + r) * p, p);
                    }
                }
            }
        }
        return out;
    }

    /** @return a new TensorFlow tensor of the model dtype (the caller closes it) */
    private org.tensorflow.Tensor tensor(double[] data, long... shape) {
        return tensor(new HostArray(data, new long[] {data.length}, DType.FLOAT64), shape);
    }

    /** @return a tensor of {@code data} (any storage; float32 storage is not converted) in the model dtype */
    private org.tensorflow.Tensor tensor(HostArray data, long... shape) {
        org.tensorflow.ndarray.Shape s = org.tensorflow.ndarray.Shape.of(shape);
        if (dataType == DataType.FLOAT64) {
            return TFloat64.tensorOf(s, DataBuffers.of(data.doubles(), true, false));
        }
        return TFloat32.tensorOf(s, DataBuffers.of(data.floats(), true, false));
    }

    /** @return the elements of a float32/float64 TensorFlow tensor as doubles */
    private static double[] read(org.tensorflow.Tensor t) {
        int size = Math.toIntExact(t.shape().size());
        if (t instanceof TFloat64 d) {
            double[] out = new double[size];
            d.copyTo(DataBuffers.of(out, false, false));
            return out;
        }
        if (t instanceof TFloat32 f) {
            float[] floats = new float[size];
            f.copyTo(DataBuffers.of(floats, false, false));
            double[] out = new double[size];
            for (int i = 0; i < size; i++) {
                out[i] = floats[i];
            }
            return out;
        }
        throw new IllegalStateException("djl-tf: unexpected result type " + t.dataType());
    }

    /** @return an eager copy of a session result in {@code m} */
    private static NDArray toNDArray(org.tensorflow.Tensor t, NDManager m) {
        int size = Math.toIntExact(t.shape().size());
        Shape shape = new Shape(t.shape().asArray());
        if (t instanceof TFloat64 d) {
            double[] out = new double[size];
            d.copyTo(DataBuffers.of(out, false, false));
            return m.create(out, shape);
        }
        if (t instanceof TFloat32 f) {
            float[] out = new float[size];
            f.copyTo(DataBuffers.of(out, false, false));
            return m.create(out, shape);
        }
        throw new IllegalStateException("djl-tf: unexpected result type " + t.dataType());
    }

    /** @return one TensorFlow tensor per parameter tensor of θ (closed by {@link #releaseNative}) */
    private org.tensorflow.Tensor[] upload(double[] parameters) {
        return uploadEach(parameters, this::tensor, org.tensorflow.Tensor::close)
                .toArray(new org.tensorflow.Tensor[0]);
    }

    private static void closeAll(org.tensorflow.Tensor[] tensors) {
        for (org.tensorflow.Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
