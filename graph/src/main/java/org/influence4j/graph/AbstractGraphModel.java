package org.influence4j.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.GradientBlock;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.model.AbstractSpecModel;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;

/**
 * A layer graph ({@link ModelSpec#isGraph()}) as a {@link org.influence4j.api.TwiceDifferentiable}
 * on any backend with {@link Kernels}: every method is {@link GraphDerivatives} run in a fresh memory
 * context of the backend, its result moved or copied into the caller's scope. Exact gradients, batched
 * per-sample gradients (one forward and one backward pass per batch), exact Hessian-vector products
 * (forward over reverse), Gauss-Newton-vector products (J v in forward mode), mixed derivatives for
 * float inputs, and the factors of the Dense heads ({@link ModelGraph#factorLayers()}).
 *
 * <p><b>What a backend supplies</b>: the parameter arrays (uploaded in its constructor, replaced by
 * {@link #replaceParameters}, freed by {@link #releaseNative}), a memory context per call
 * ({@link #inCallContext}: every array made in it is freed when it returns, also when it throws),
 * the check and copy of direction tensors ({@link #requireTensor}, {@link #local}) and the copy of
 * a result into the caller's scope ({@link #export}). Nothing of a call outlives it but its result.
 *
 * <p>Not thread-safe ({@link #isThreadSafe()} is false): one instance must be used by one thread at
 * a time. Holds native memory: close it.
 *
 * @param <A> the backend's array type
 * @param <T> the backend's tensor type
 * @param <B> the backend type
 * @param <S> the backend's scope type
 */
public abstract class AbstractGraphModel<A, T extends Tensor, B extends Backend, S extends TensorScope>
        extends AbstractSpecModel<B, S> {

    private final ModelGraph graph;
    private final Map<String, int[]> indexCache = GraphEvaluator.newIndexCache();

    /**
     * @param backend    the backend
     * @param spec       a graph spec
     * @param parameters θ (length p); the subclass uploads it after this returns
     * @throws IllegalArgumentException if the spec is not a graph or the parameters do not fit it
     */
    protected AbstractGraphModel(B backend, ModelSpec spec, double[] parameters) {
        super(backend, requireGraph(spec), parameters);
        this.graph = spec.graph();
    }

    private static ModelSpec requireGraph(ModelSpec spec) {
        if (spec == null || !spec.isGraph()) {
            throw new IllegalArgumentException("spec: a layer-graph model needs a graph spec (ModelSpec.of(graph))");
        }
        return spec;
    }

    /** One call's computation in a memory context. */
    @FunctionalInterface
    protected interface InContext<A, R> {
        /** @return the result, computed with {@code kernels} */
        R apply(Kernels<A> kernels);
    }

    /**
     * Runs {@code body} with kernels of a new memory context (and the engine's own autograd off);
     * every array made in it is freed when this returns, also when the body throws.
     */
    protected abstract <R> R inCallContext(InContext<A, R> body);

    /**
     * A memory context that outlives a call, for state kept across calls ({@link #keepCurvature}):
     * arrays made in it are freed when it is closed.
     *
     * @param <A> the backend's array type
     */
    protected interface KeptContext<A> extends AutoCloseable {
        /** @return {@code body}'s result, computed with this context's kernels (the engine's autograd off) */
        <R> R apply(InContext<A, R> body);

        /** Frees every array made in this context. Idempotent. */
        @Override
        void close();
    }

    /**
     * @return a new {@link KeptContext}, or null where the backend keeps nothing across calls (then
     *     {@link #keepCurvature} keeps nothing); the default
     */
    protected KeptContext<A> openKeptContext() {
        return null;
    }

    /** @return the parameter arrays in layout order, with their own shapes */
    protected abstract List<A> parameterArrays();

    /**
     * @return {@code t} as a tensor of this backend
     * @throws IllegalArgumentException naming {@code argument} if it is not one (or is closed)
     */
    protected abstract T requireTensor(S target, Tensor t, String argument);

    /** @return a copy of {@code t}'s array in the model's dtype, made in the context of {@code kernels} */
    protected abstract A local(Kernels<A> kernels, T t);

    /**
     * @return {@code array}, or a copy of it, owned by {@code target} (called while the context is
     *     open): a backend may move an array made in the call's context instead of copying it
     */
    protected abstract T export(S target, A array);

    @Override
    public final T forward(Batch batch, TensorScope scope) {
        return run(checkCall(batch, scope), (d, k) -> d.outputs(batch));
    }

    @Override
    public final double loss(Batch batch) {
        checkBatch(batch);
        return inCallContext(k -> mean(k.toDoubles(derivatives(k).perSampleLosses(batch))));
    }

    @Override
    public final T perSampleLosses(Batch batch, TensorScope scope) {
        return run(checkCall(batch, scope), (d, k) -> d.perSampleLosses(batch));
    }

    @Override
    public final T gradient(Batch batch, TensorScope scope) {
        return run(checkCall(batch, scope), (d, k) -> d.gradient(batch));
    }

    /**
     * {@inheritDoc}
     *
     * <p>From one batched forward and backward pass ({@link GraphDerivatives#perSampleGradients}: from
     * the taps of the parameterized layers).
     */
    @Override
    public final T perSampleGradients(Batch batch, TensorScope scope) {
        return run(checkCall(batch, scope), (d, k) -> d.perSampleGradients(batch));
    }

    /** {@inheritDoc} ({@link GraphDerivatives#gradientColumns}) */
    @Override
    public final long perSampleGradientColumns() {
        return GraphDerivatives.gradientColumns(graph, null);
    }

    /** {@inheritDoc} ({@link GraphDerivatives#gradientColumns}) */
    @Override
    public final long perSampleGradientColumns(Set<String> parameters) {
        ParameterInfo.named(graph.parameterLayout(), parameters);
        return GraphDerivatives.gradientColumns(graph, parameters);
    }

    /**
     * {@inheritDoc}
     *
     * <p>From the pass of {@link #perSampleGradients}: the Dense layers on vectors as their factors,
     * the Embedding tables as their looked-up rows, the runs of Conv2d parameters between them as
     * columns ({@link GraphDerivatives#perSampleGradientBlocks}).
     */
    @Override
    public final List<GradientBlock> perSampleGradientBlocks(Batch batch, TensorScope scope) {
        return blocks(batch, scope, null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One forward and one backward pass that taps only the layers of the named parameters and
     * stops at the earliest of them ({@link GraphDerivatives#perSampleGradientBlocks}): naming the last
     * layers costs little more than the output gradients.
     */
    @Override
    public final List<GradientBlock> perSampleGradientBlocks(Batch batch, TensorScope scope, Set<String> parameters) {
        ParameterInfo.named(graph.parameterLayout(), parameters);
        return blocks(batch, scope, Set.copyOf(parameters));
    }

    /** @param named the parameters' names, or null for all */
    private List<GradientBlock> blocks(Batch batch, TensorScope scope, Set<String> named) {
        S target = checkCall(batch, scope);
        return inCallContext(k -> {
            List<GradientBlock> out = new ArrayList<>();
            for (GraphDerivatives.Block<A> b : derivatives(k).perSampleGradientBlocks(batch, named)) {
                out.add(b.gradients() != null ? GradientBlock.materialized(b.offset(), export(target, b.gradients()))
                        : b.embeddingRows() ? GradientBlock.embeddingRows(b.offset(),
                                Math.toIntExact(b.size() / k.shape(b.deltas())[2]), GraphDerivatives.ids(batch),
                                export(target, b.deltas()))
                        : GradientBlock.factored(b.offset(), export(target, b.inputs()), export(target, b.deltas()),
                        b.bias()));
            }
            return List.copyOf(out);
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: the forward-mode derivative of the recorded gradient (forward over reverse).
     *
     * @throws IllegalArgumentException if {@code v} is not a vector {@code [p]} of this backend
     */
    @Override
    public final T hvp(Batch batch, Tensor v, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = requireTensor(target, v, "v");
        requireVector(vt, "v");
        int p = numParameters();
        return run(target, (d, k) -> k.reshape(d.hvpBlock(batch, k.reshape(local(k, vt), 1, p)), p));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact (forward over reverse): one forward pass and one recorded backward pass, then one
     * forward-mode sweep over both per row.
     *
     * @throws IllegalArgumentException if {@code vs} is not a matrix {@code [k, p]} of this backend
     */
    @Override
    public final T hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        return block(batch, vs, scope, GraphDerivatives::hvpBlock);
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code J v} in forward mode (one tangent sweep over the recorded forward pass), the loss
     * curvature in closed form, then one VJP.
     *
     * @throws IllegalArgumentException if {@code vs} is not a matrix {@code [k, p]} of this backend
     */
    @Override
    public final T gaussNewtonBlock(Batch batch, Tensor vs, TensorScope scope) {
        return block(batch, vs, scope, GraphDerivatives::gaussNewtonBlock);
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a graph with an Embedding table on a backend that keeps state: the per-sample gradients
     * with the tables as their looked-up rows ({@link #keepCurvature}).
     */
    @Override
    public final long empiricalFisherKeptBytes(int samples) {
        if (hasTables()) {
            KeptContext<A> probe = openKeptContext();
            if (probe != null) {
                probe.close();
                return Math.multiplyExact(Math.multiplyExact(samples, GraphDerivatives.valuesWithTableRows(graph)),
                        spec().dtype().bytes());
            }
        }
        return super.empiricalFisherKeptBytes(samples);
    }

    /** @return whether the graph has an Embedding table (whose per-sample gradients are its looked-up rows) */
    private boolean hasTables() {
        return graph.nodes().stream().anyMatch(GraphNode.Embedding.class::isInstance);
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a graph with an Embedding table: per slice of samples ({@link GraphDerivatives#outerProductSlice})
     * one forward and one backward pass ({@link GraphDerivatives#gradientOuterProducts}) that never
     * forms the table's per-sample gradients {@code [n, V·d]}, only those of its looked-up rows;
     * other graphs take the default.
     */
    @Override
    public final Tensor empiricalFisherBlock(Batch batch, Tensor vs, TensorScope scope) {
        if (!hasTables()) {
            return super.empiricalFisherBlock(batch, vs, scope);
        }
        S target = checkCall(batch, scope);
        T vt = requireTensor(target, vs, "vs");
        if (requireBlock(vt, "vs") == 0) {
            return run(target, (d, k) -> emptyBlock(k));
        }
        int slice = GraphDerivatives.outerProductSlice(graph, batch.size());
        return GradientChunks.meanOverSlices(batch, slice, (part, work) -> run(checkResultScope(work),
                (d, k) -> d.gradientOuterProducts(part, local(k, vt))), target);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One forward pass and c backward passes per chunk of 256 samples, each assembled from the
     * layer factors for Dense/Conv2d graphs ({@link GraphDerivatives#gaussNewtonFactors}).
     */
    @Override
    public final T gaussNewtonFactors(Batch batch, TensorScope scope) {
        return run(checkCall(batch, scope), (d, k) -> d.gaussNewtonFactors(batch));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The p Hessian-vector products of the unit vectors, symmetrised ({@code (H + Hᵀ)/2}, exactly
     * symmetric). Costs p backward passes and {@code p²} memory: meant for small p.
     */
    @Override
    public final T hessian(Batch batch, TensorScope scope) {
        S target = checkCall(batch, scope);
        warnIfLargeHessian("backward passes");
        int p = numParameters();
        return run(target, (d, k) -> {
            double[] eye = new double[Math.multiplyExact(p, p)];
            for (int i = 0; i < p; i++) {
                eye[i * p + i] = 1.0;
            }
            A h = d.hvpBlock(batch, k.constant(eye, p, p));
            return k.scale(k.add(h, k.permute(h, 1, 0)), 0.5);
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>Exact: the gradient in x of {@code ⟨v, ∇θ ℓ_i⟩} through the recorded gradient.
     *
     * @throws IllegalArgumentException if {@code vs} is not a matrix {@code [k, p]} of this backend
     * @throws UnsupportedOperationException if the model reads token ids (and k &gt; 0)
     */
    @Override
    public final T mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        S target = checkCall(batch, scope);
        T vt = requireTensor(target, vs, "vs");
        if (requireBlock(vt, "vs") == 0) {
            return run(target, (d, k) -> k.constant(new double[0], 0, batch.size(), spec().inputDim()));
        }
        return run(target, (d, k) -> d.mixedGradientProducts(batch, local(k, vt)));
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: the Dense nodes with a bias on per-sample vectors
     * ({@link ModelGraph#factorLayers()}, e.g. the classifier head of a CNN), with the node index as
     * {@code layerIndex}.
     */
    @Override
    public final List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        S target = checkCall(batch, scope);
        return inCallContext(k -> {
            List<DenseLayerFactors> out = new ArrayList<>();
            for (GraphDerivatives.LayerFactors<A> f : derivatives(k).denseLayerFactors(batch)) {
                out.add(new DenseLayerFactors(f.nodeIndex(), f.weightOffset(), export(target, f.inputs()),
                        export(target, f.outputGradients())));
            }
            return List.copyOf(out);
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: every Dense, Conv2d and Embedding node, in node order, with the node
     * index as {@code layerIndex}.
     */
    @Override
    public final List<LayerGradientFactors> layerGradientFactors(Batch batch, TensorScope scope) {
        S target = checkCall(batch, scope);
        return inCallContext(k -> exported(derivatives(k).layerFactors(batch), batch, 1, k, target));
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: one forward pass, then one backward pass per class from the weighted output
     * gradients {@code √p_ic (p_i − e_c)} ({@link GraphDerivatives#fisherLayerFactors}).
     */
    @Override
    public final List<LayerGradientFactors> fisherLayerGradientFactors(Batch batch, int fromClass, int toClass,
                                                                       TensorScope scope) {
        LayerGradientFactors.requireClasses(spec(), fromClass, toClass);
        S target = checkCall(batch, scope);
        return inCallContext(k -> exported(derivatives(k).fisherLayerFactors(batch, fromClass, toClass), batch,
                toClass - fromClass, k, target));
    }

    /**
     * {@inheritDoc}
     *
     * <p>For a layer graph: one forward pass and one backward pass
     * ({@link GraphDerivatives#pooledFisherLayerFactors}).
     */
    @Override
    public final List<LayerGradientFactors> pooledFisherLayerGradientFactors(Batch batch, TensorScope scope) {
        LayerGradientFactors.requireClasses(spec(), 0, spec().outputDim());
        S target = checkCall(batch, scope);
        return inCallContext(k -> exported(derivatives(k).pooledFisherLayerFactors(batch), batch, 1, k, target));
    }

    /**
     * @param copies the labels the δ rows hold ({@code copies·n·T} rows; inputs and ids {@code n·T})
     * @return the factors as the api's, in {@code target}
     */
    private List<LayerGradientFactors> exported(List<GraphDerivatives.LayerFactors<A>> factors, Batch batch,
                                                int copies, Kernels<A> k, S target) {
        ModelGraph graph = spec().graph();
        List<LayerGradientFactors> out = new ArrayList<>();
        for (GraphDerivatives.LayerFactors<A> f : factors) {
            GraphNode node = graph.nodes().get(f.nodeIndex());
            int rows = (int) k.shape(f.outputGradients())[0];
            int positions = rows / batch.size() / copies;
            T delta = export(target, f.outputGradients());
            if (node instanceof GraphNode.Embedding e) {
                out.add(new LayerGradientFactors(LayerGradientFactors.Kind.EMBEDDING, f.nodeIndex(),
                        f.weightOffset(), e.numEmbeddings(), e.embeddingDim(), false, positions, null,
                        GraphDerivatives.ids(batch), delta));
            } else if (node instanceof GraphNode.Conv2d c) {
                out.add(new LayerGradientFactors(LayerGradientFactors.Kind.CONV2D, f.nodeIndex(), f.weightOffset(),
                        c.inChannels() * c.kernel().h() * c.kernel().w(), c.outChannels(), c.bias(), positions,
                        export(target, f.inputs()), null, delta));
            } else {
                GraphNode.Dense d = (GraphNode.Dense) node;
                out.add(new LayerGradientFactors(LayerGradientFactors.Kind.DENSE, f.nodeIndex(), f.weightOffset(),
                        d.inFeatures(), d.outFeatures(), d.bias(), positions, export(target, f.inputs()), null,
                        delta));
            }
        }
        return List.copyOf(out);
    }

    /**
     * {@inheritDoc}
     *
     * <p>For the Hessian or the Gauss-Newton matrix of a layer graph on a backend with a {@link KeptContext}: the recorded passes over the batch
     * (the forward pass; for the Hessian also the backward pass of the gradient) with a copy of θ,
     * kept in that context ({@link GraphDerivatives#keepGaussNewton}, {@link GraphDerivatives#keepHessian});
     * each product sweeps the record only. For the empirical Fisher of a graph with an Embedding table
     * on such a backend: the per-sample gradients with the tables as their looked-up rows
     * ({@link GraphDerivatives#keepEmpiricalFisher}), {@code n·(p − V·d + T·d)} values instead of
     * {@code n·p}. Closing the model closes either.
     */
    @Override
    public final KeptCurvature keepCurvature(Batch batch, Curvature curvature) {
        checkBatch(batch);
        if (curvature == Curvature.GAUSS_NEWTON && !backend().capabilities().contains(BackendCapability.GAUSS_NEWTON)) {
            return super.keepCurvature(batch, curvature); // names the missing capability
        }
        // the empirical Fisher keeps the per-sample gradients: as the default does, or with the tables as rows
        KeptContext<A> context = curvature == null || curvature == Curvature.EMPIRICAL_FISHER && !hasTables() ? null
                : openKeptContext();
        if (context == null) {
            return super.keepCurvature(batch, curvature);
        }
        try {
            GraphDerivatives.KeptProducts<A> kept = context.apply(k -> {
                if (curvature == Curvature.EMPIRICAL_FISHER) {
                    return derivatives(k).keepEmpiricalFisher(batch); // formed now: needs no copy of θ
                }
                List<A> copies = new ArrayList<>();
                for (A p : parameterArrays()) {
                    copies.add(k.scale(p, 1.0));
                }
                GraphDerivatives<A> d = new GraphDerivatives<>(graph, indexCache, k, copies);
                return curvature == Curvature.HESSIAN ? d.keepHessian(batch) : d.keepGaussNewton(batch);
            });
            return new KeptProducts(context, kept, curvature);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /** The {@link KeptCurvature} of a kept context. */
    private final class KeptProducts implements KeptCurvature {
        private final KeptContext<A> context;
        private final GraphDerivatives.KeptProducts<A> kept;
        private final Curvature curvature;
        private boolean closed;

        KeptProducts(KeptContext<A> context, GraphDerivatives.KeptProducts<A> kept, Curvature curvature) {
            this.context = context;
            this.kept = kept;
            this.curvature = curvature;
        }

        @Override
        public Curvature curvature() {
            return curvature;
        }

        @Override
        public Tensor times(Tensor vs, TensorScope scope) {
            if (closed) {
                throw new IllegalStateException("the kept " + curvature.key() + " record is closed; keep the batch"
                        + " again with keepCurvature");
            }
            S target = checkResultScope(scope);
            T vt = requireTensor(target, vs, "vs");
            return context.apply(k -> export(target, requireBlock(vt, "vs") == 0 ? emptyBlock(k)
                    : kept.times(nested -> local(nested, vt))));
        }

        @Override
        public long keptBytes() {
            return closed ? 0 : kept.keptValues() * spec().dtype().bytes();
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                context.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** A computation from the call's derivatives and kernels. */
    @FunctionalInterface
    private interface Body<A> {
        A apply(GraphDerivatives<A> derivatives, Kernels<A> kernels);
    }

    /** A block product of the derivatives. */
    @FunctionalInterface
    private interface BlockProduct<A> {
        A apply(GraphDerivatives<A> derivatives, Batch batch, A directions);
    }

    private T block(Batch batch, Tensor vs, TensorScope scope, BlockProduct<A> product) {
        S target = checkCall(batch, scope);
        T vt = requireTensor(target, vs, "vs");
        if (requireBlock(vt, "vs") == 0) {
            return run(target, (d, k) -> emptyBlock(k));
        }
        return run(target, (d, k) -> product.apply(d, batch, local(k, vt)));
    }

    /** @return the product of no directions: {@code [0, p]} */
    private A emptyBlock(Kernels<A> k) {
        return k.constant(new double[0], 0, numParameters());
    }

    private T run(S target, Body<A> body) {
        return inCallContext(k -> export(target, body.apply(derivatives(k), k)));
    }

    private GraphDerivatives<A> derivatives(Kernels<A> k) {
        return new GraphDerivatives<>(graph, indexCache, k, parameterArrays());
    }
}
