package org.influence4j.backend.nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.graph.GraphDerivatives;
import org.influence4j.graph.GraphEvaluator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A layer graph ({@link ModelSpec#isGraph()}: convolutions, pooling, embeddings, normalisation,
 * residual connections, GELU) on ND4J, as a {@link TwiceDifferentiable}, float32 or float64. The
 * derivatives are those of {@link GraphDerivatives} (written once in the {@code graph} module) over
 * {@link Nd4jKernels}: exact gradients, batched per-sample gradients (one forward and one backward
 * pass per batch), exact Hessian-vector products by double backward, Gauss-Newton-vector products
 * and, for float inputs, mixed derivatives ∇x∇θ. ND4J's own automatic differentiation (SameDiff) is
 * not used.
 *
 * <p><b>Conventions</b> (those of {@link TwiceDifferentiable}): θ flat in
 * {@link ModelGraph#parameterLayout()} order (PyTorch's {@code named_parameters()}); the batch loss
 * is the mean of the per-sample losses; per-sample gradients are of each sample's own loss.
 * {@link #denseLayerFactors} is not provided for graphs (it throws).
 *
 * <p><b>Memory.</b> Every call runs in its own {@link Nd4jArena}: each array the computation makes is
 * closed (its native buffer freed) before the call returns, and the result is a new array outside
 * ND4J workspaces that the caller's scope owns, so nothing of a call outlives it but its result.
 * The parameters are closed by {@link #close()} and {@link #setParameters}.
 *
 * <p>Not thread-safe ({@link #isThreadSafe()} is false): one instance must be used by one thread at
 * a time. Holds native memory: close it. The accessors, θ's host copy and the argument checks are
 * those of {@link AbstractSpecModel}.
 */
public final class Nd4jGraphModel extends AbstractSpecModel<Nd4jBackend, Nd4jTensorScope> {

    private final ModelGraph graph;
    private final DataType type;
    private final boolean nativeScatter;
    private final Map<String, int[]> indexCache = GraphEvaluator.newIndexCache();
    private List<INDArray> params;

    /**
     * @param backend       the backend
     * @param spec          a graph spec
     * @param parameters    θ (length p)
     * @param nativeScatter whether the kernels use ND4J's scatter-add (see {@link Nd4jKernels})
     * @throws IllegalArgumentException if the spec is not a graph, or the parameters have the wrong
     *     length or a NaN/Inf
     */
    Nd4jGraphModel(Nd4jBackend backend, ModelSpec spec, double[] parameters, boolean nativeScatter) {
        super(backend, requireGraph(spec), parameters);
        this.graph = spec.graph();
        this.type = Nd4jDTypes.toNd4j(spec.dtype());
        this.nativeScatter = nativeScatter;
        this.params = upload(parameters);
    }

    private static ModelSpec requireGraph(ModelSpec spec) {
        if (spec == null || !spec.isGraph()) {
            throw new IllegalArgumentException("spec: Nd4jGraphModel needs a layer graph (ModelSpec.of(graph))");
        }
        return spec;
    }

    /** @return θ as one new array per parameter tensor, in layout order, outside every workspace */
    private List<INDArray> upload(double[] parameters) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return uploadEach(parameters, (part, shape) -> Nd4jArrays.create(part, shape, type), Nd4jArrays::free);
        }
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        List<INDArray> fresh = upload(parameters);
        List<INDArray> old = params;
        params = fresh;
        old.forEach(Nd4jArrays::free);
    }

    @Override
    public Nd4jTensor forward(Batch batch, TensorScope scope) {
        return call(checkCall(batch, scope), (d, k) -> d.outputs(batch));
    }

    @Override
    public double loss(Batch batch) {
        checkBatch(batch);
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = kernels(ar);
            return mean(k.toDoubles(derivatives(k).perSampleLosses(batch)));
        }
    }

    @Override
    public Nd4jTensor perSampleLosses(Batch batch, TensorScope scope) {
        return call(checkCall(batch, scope), (d, k) -> d.perSampleLosses(batch));
    }

    @Override
    public Nd4jTensor gradient(Batch batch, TensorScope scope) {
        return call(checkCall(batch, scope), (d, k) -> d.gradient(batch));
    }

    /**
     * {@inheritDoc}
     *
     * <p>From one batched forward and backward pass (the parameters broadcast to the batch).
     */
    @Override
    public Nd4jTensor perSampleGradients(Batch batch, TensorScope scope) {
        return call(checkCall(batch, scope), (d, k) -> d.perSampleGradients(batch));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact (double backward).
     *
     * @throws IllegalArgumentException if {@code v} is not an nd4j vector of shape {@code [p]}
     */
    @Override
    public Nd4jTensor hvp(Batch batch, Tensor v, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(v, "v");
        requireVector(vt, "v");
        int p = numParameters();
        return call(target, (d, k) -> k.reshape(d.hvpBlock(batch, k.reshape(local(k, vt), 1, p)), p));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact (double backward); one forward and backward pass for the k rows.
     *
     * @throws IllegalArgumentException if {@code vs} is not an nd4j matrix of shape {@code [k, p]}
     */
    @Override
    public Nd4jTensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(vs, "vs");
        long k = requireBlock(vt, "vs");
        if (k == 0) {
            return target.wrap(zeros(0, numParameters()));
        }
        return call(target, (d, kernels) -> d.hvpBlock(batch, local(kernels, vt)));
    }

    /**
     * Gauss-Newton-vector products {@code (1/n) Σ_i J_iᵀ H_ℓ,i J_i v} for a block of directions
     * (positive semi-definite curvature, exact): {@code J v} by the double-VJP trick, the loss
     * curvature in closed form, then one more VJP.
     *
     * @param vs a matrix {@code [k, p]} of this backend (k may be 0)
     * @return {@code [k, p]}, owned by {@code scope}
     * @throws IllegalArgumentException if {@code vs} is not an nd4j matrix of shape {@code [k, p]}
     */
    @Override
    public Nd4jTensor gaussNewtonBlock(Batch batch, Tensor vs, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(vs, "vs");
        long k = requireBlock(vt, "vs");
        if (k == 0) {
            return target.wrap(zeros(0, numParameters()));
        }
        return call(target, (d, kernels) -> d.gaussNewtonBlock(batch, local(kernels, vt)));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The p Hessian-vector products of the unit vectors (one pass with a block of p directions),
     * symmetrised ({@code (H + Hᵀ)/2}, exactly symmetric). Costs {@code p²} memory: meant for small p.
     */
    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: the Dense nodes with a bias on per-sample vectors
     * ({@link ModelGraph#factorLayers()}), with the node index as {@code layerIndex}.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        List<INDArray[]> copies = new ArrayList<>();
        List<int[]> where = new ArrayList<>();
        try (Nd4jArena ar = new Nd4jArena()) {
            for (GraphDerivatives.LayerFactors<INDArray> f : derivatives(kernels(ar)).denseLayerFactors(batch)) {
                copies.add(new INDArray[] {f.inputs().dup('c'), f.outputGradients().dup('c')});
                where.add(new int[] {f.nodeIndex(), f.weightOffset()});
            }
        }
        List<DenseLayerFactors> out = new ArrayList<>();
        for (int i = 0; i < copies.size(); i++) {
            out.add(new DenseLayerFactors(where.get(i)[0], where.get(i)[1], target.wrap(copies.get(i)[0]),
                    target.wrap(copies.get(i)[1])));
        }
        return List.copyOf(out);
    }

    @Override
    public Nd4jTensor hessian(Batch batch, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        warnIfLargeHessian("backward passes");
        int p = numParameters();
        return call(target, (d, k) -> {
            double[] eye = new double[Math.multiplyExact(p, p)];
            for (int i = 0; i < p; i++) {
                eye[i * p + i] = 1.0;
            }
            INDArray h = d.hvpBlock(batch, k.constant(eye, p, p));
            return k.scale(k.add(h, k.permute(h, 1, 0)), 0.5);
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: the gradient in x of {@code ⟨v, ∇θ ℓ_s⟩} through the recorded gradient (double
     * backward), for all samples and the k directions from one forward and backward pass.
     *
     * @throws IllegalArgumentException if {@code vs} is not an nd4j matrix of shape {@code [k, p]}
     * @throws UnsupportedOperationException if the model reads token ids (and k &gt; 0)
     */
    @Override
    public Nd4jTensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        Nd4jTensorScope target = checkCall(batch, scope);
        Nd4jTensor vt = Nd4jTensor.require(vs, "vs");
        long k = requireBlock(vt, "vs");
        if (k == 0) {
            return target.wrap(zeros(0, batch.size(), spec().inputDim()));
        }
        return call(target, (d, kernels) -> d.mixedGradientProducts(batch, local(kernels, vt)));
    }

    @Override
    protected void releaseNative() {
        params.forEach(Nd4jArrays::free);
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

    /** The computation of one call, given its derivatives and its kernels. */
    @FunctionalInterface
    private interface Body {
        INDArray apply(GraphDerivatives<INDArray> derivatives, Nd4jKernels kernels);
    }

    /**
     * Runs {@code body} in a new arena and copies its result into {@code target}; every other array
     * of the call is freed when the arena closes (also when the body throws).
     */
    private Nd4jTensor call(Nd4jTensorScope target, Body body) {
        INDArray result;
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = kernels(ar);
            // copied while the arena keeps allocations outside workspaces; the arena frees the original
            result = body.apply(derivatives(k), k).dup('c');
        }
        try {
            return target.wrap(result);
        } catch (RuntimeException | Error e) {
            Nd4jArrays.free(result);
            throw e;
        }
    }

    /** @return a C-order copy of the tensor's array in the model's data type, owned by the call */
    private static INDArray local(Nd4jKernels k, Nd4jTensor t) {
        return k.copyOf(t.array());
    }

    private Nd4jKernels kernels(Nd4jArena ar) {
        return new Nd4jKernels(ar, type, nativeScatter);
    }

    private GraphDerivatives<INDArray> derivatives(Nd4jKernels k) {
        return new GraphDerivatives<>(graph, indexCache, k, params);
    }

    /** @return a new zero array outside every workspace (the result of an empty block) */
    private INDArray zeros(long... shape) {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.zeros(type, shape);
        }
    }
}
