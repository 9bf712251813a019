package org.influence4j.backend.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.graph.GraphDerivatives;
import org.influence4j.graph.GraphEvaluator;

/**
 * A layer graph ({@link ModelSpec#isGraph()}: convolutions, pooling, embeddings, normalisation,
 * residual connections) on a DJL engine, as a {@link org.influence4j.api.TwiceDifferentiable}. The
 * derivatives are those of {@link GraphDerivatives} over {@link DjlKernels}: exact gradients,
 * batched per-sample gradients (one forward and one backward pass per batch), exact Hessian-vector
 * products by double backward, and mixed derivatives for float inputs. The engine's own autograd is
 * not used (the engine-specific {@code noGrad} hook turns its recording off).
 *
 * <p>Every call runs in its own sub-manager that is closed at the end; results are copied into the
 * caller's scope, so nothing of a call outlives it but its result (flat native memory). Not
 * thread-safe: one instance must be used by one thread at a time. Holds native memory: close it.
 *
 * @param <T> the backend's tensor type
 * @param <S> the backend's scope type
 */
public final class DjlGraphModel<T extends DjlTensor<T, S>, S extends DjlTensorScope<T, S>>
        extends AbstractSpecModel<DjlBackend<S>, S> {

    private final ModelGraph graph;
    private final DataType dataType;
    private final NDManager manager;
    private final DjlKernels.Uploader uploader;
    private final DjlKernels.RowGather rowGather;
    private final Supplier<AutoCloseable> noGrad;
    private final Map<String, int[]> indexCache = GraphEvaluator.newIndexCache();
    private List<NDArray> params;

    /**
     * @param backend    the backend
     * @param spec       a graph spec
     * @param parameters θ (length p)
     * @param uploader   how host data becomes engine arrays
     * @param rowGather  how the engine gathers rows of a matrix
     * @param noGrad     turns the engine's autograd recording off until closed
     * @throws IllegalArgumentException if the spec is not a graph or the parameters do not fit it
     */
    public DjlGraphModel(DjlBackend<S> backend, ModelSpec spec, double[] parameters, DjlKernels.Uploader uploader,
                         DjlKernels.RowGather rowGather, Supplier<AutoCloseable> noGrad) {
        super(backend, requireGraph(spec), parameters);
        this.graph = spec.graph();
        this.dataType = DjlDTypes.toDjl(spec.dtype());
        this.uploader = uploader;
        this.rowGather = rowGather;
        this.noGrad = noGrad;
        this.manager = backend.engine().newBaseManager();
        try {
            this.params = upload(parameters);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static ModelSpec requireGraph(ModelSpec spec) {
        if (spec == null || !spec.isGraph()) {
            throw new IllegalArgumentException("spec: DjlGraphModel needs a layer graph (ModelSpec.of(graph))");
        }
        return spec;
    }

    private List<NDArray> upload(double[] parameters) {
        return uploadEach(parameters, (data, shape) -> uploader.upload(manager, data, new Shape(shape), dataType),
                NDArray::close);
    }

    @Override
    protected void replaceParameters(double[] parameters) {
        List<NDArray> fresh = upload(parameters);
        List<NDArray> old = params;
        params = fresh;
        old.forEach(NDArray::close);
    }

    @Override
    public T forward(Batch batch, TensorScope scope) {
        return call(batch, scope, (d, m) -> d.outputs(batch));
    }

    @Override
    public double loss(Batch batch) {
        checkBatch(batch);
        try (NDManager m = manager.newSubManager(); AutoCloseable g = noGrad.get()) {
            DjlKernels k = kernels(m);
            return mean(k.toDoubles(derivatives(k).perSampleLosses(batch)));
        } catch (Exception e) {
            throw rethrow(e);
        }
    }

    @Override
    public T perSampleLosses(Batch batch, TensorScope scope) {
        return call(batch, scope, (d, m) -> d.perSampleLosses(batch));
    }

    @Override
    public T gradient(Batch batch, TensorScope scope) {
        return call(batch, scope, (d, m) -> d.gradient(batch));
    }

    @Override
    public T perSampleGradients(Batch batch, TensorScope scope) {
        return call(batch, scope, (d, m) -> d.perSampleGradients(batch));
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code v} is not a tensor of this backend of shape {@code [p]}
     */
    @Override
    public T hvp(Batch batch, Tensor v, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = target.requireTensor(v, "v");
        requireVector(vt, "v");
        int p = numParameters();
        return call(batch, scope, (d, m) -> d.hvpBlock(batch, local(m, vt).reshape(1, p)).reshape(p));
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code vs} is not a tensor of this backend of shape {@code [k, p]}
     */
    @Override
    public T hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = target.requireTensor(vs, "vs");
        long k = requireBlock(vt, "vs");
        if (k == 0) {
            return target.wrap(target.manager().zeros(new Shape(0, numParameters()), dataType));
        }
        return call(batch, scope, (d, m) -> d.hvpBlock(batch, local(m, vt)));
    }

    /**
     * Gauss-Newton-vector products {@code (1/n) Σ_i J_iᵀ H_ℓ,i J_i v} for a block of directions
     * (positive semi-definite curvature, exact).
     *
     * @param vs a matrix {@code [k, p]} of this backend
     * @return {@code [k, p]}, owned by {@code scope}
     */
    @Override
    public T gaussNewtonBlock(Batch batch, Tensor vs, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = target.requireTensor(vs, "vs");
        requireBlock(vt, "vs");
        return call(batch, scope, (d, m) -> d.gaussNewtonBlock(batch, local(m, vt)));
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: the Dense nodes with a bias on per-sample vectors
     * ({@link ModelGraph#factorLayers()}, e.g. the classifier head of a CNN), with the node index as
     * {@code layerIndex}.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        S target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); AutoCloseable g = noGrad.get()) {
            List<DenseLayerFactors> out = new ArrayList<>();
            for (GraphDerivatives.LayerFactors<NDArray> f : derivatives(kernels(m)).denseLayerFactors(batch)) {
                out.add(new DenseLayerFactors(f.nodeIndex(), f.weightOffset(), target.wrap(f.inputs().duplicate()),
                        target.wrap(f.outputGradients().duplicate())));
            }
            return List.copyOf(out);
        } catch (Exception e) {
            throw rethrow(e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The p Hessian-vector products of the unit vectors, symmetrised ({@code (H + Hᵀ)/2}).
     */
    @Override
    public T hessian(Batch batch, TensorScope scope) {
        warnIfLargeHessian("backward passes");
        int p = numParameters();
        return call(batch, scope, (d, m) -> {
            NDArray h = d.hvpBlock(batch, m.eye(p, p, 0, dataType));
            return h.add(h.transpose()).mul(0.5);
        });
    }

    /**
     * {@inheritDoc}
     *
     * @throws UnsupportedOperationException if the model reads token ids
     */
    @Override
    public T mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = target.requireTensor(vs, "vs");
        long k = requireBlock(vt, "vs");
        if (k == 0) {
            return target.wrap(target.manager().zeros(new Shape(0, batch.size(), spec().inputDim()), dataType));
        }
        return call(batch, scope, (d, m) -> d.mixedGradientProducts(batch, local(m, vt)));
    }

    @Override
    protected void releaseNative() {
        manager.close();
    }

    @Override
    protected S requireScope(TensorScope scope) {
        return backend().requireScope(scope, "scope");
    }

    @Override
    protected boolean isScopeClosed(S scope) {
        return scope.isClosed();
    }

    // ---------------------------------------------------------------------------------------------

    /** The computation of one call, given its derivatives and its memory context. */
    @FunctionalInterface
    private interface Body {
        NDArray apply(GraphDerivatives<NDArray> derivatives, NDManager callManager);
    }

    /** @return a copy of {@code t} in the model's dtype, attached to the call's manager {@code m} */
    private NDArray local(NDManager m, T t) {
        NDArray a = t.ndArray();
        NDArray converted = a.getDataType() == dataType ? a.duplicate() : a.toType(dataType, true);
        converted.attach(m);
        return converted;
    }

    /**
     * Runs {@code body} in a sub-manager with the engine's autograd off and copies its result into
     * the caller's scope; everything else of the call is freed when the sub-manager closes.
     */
    private T call(Batch batch, TensorScope scope, Body body) {
        S target = checkCall(batch, scope);
        try (NDManager m = manager.newSubManager(); AutoCloseable g = noGrad.get()) {
            NDArray result = body.apply(derivatives(kernels(m)), m);
            return target.wrap(result.duplicate());
        } catch (Exception e) {
            throw rethrow(e);
        }
    }

    private DjlKernels kernels(NDManager m) {
        return new DjlKernels(m, dataType, uploader, rowGather);
    }

    private GraphDerivatives<NDArray> derivatives(DjlKernels k) {
        return new GraphDerivatives<>(graph, indexCache, k, params);
    }

    private static RuntimeException rethrow(Exception e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException("closing the engine's no-grad mode failed: " + e.getMessage(), e);
    }
}
