package org.influence4j.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.graph.Autodiff.Var;

/**
 * What a {@link org.influence4j.api.TwiceDifferentiable} computes, for a {@link ModelGraph}, on any
 * backend that supplies {@link Kernels}: outputs, per-sample losses, the mean-loss gradient, batched
 * per-sample gradients, exact Hessian-vector products (single and block), Gauss-Newton-vector
 * products and mixed derivatives ∇x∇θ. One instance serves one call: it is bound to the kernels of
 * that call's memory context, and every array it returns belongs to that context.
 *
 * <p><b>Conventions</b> (those of {@code TwiceDifferentiable}): θ flat in
 * {@link ModelGraph#parameterLayout()} order; the batch loss is the mean of the per-sample losses;
 * per-sample gradients are of each sample's own loss (not divided by n).
 *
 * <p><b>How.</b> Per-sample gradients of a graph whose parameters all belong to Dense and Conv2d
 * layers come from the layer factors (one forward pass with the shared parameters, one backward
 * pass to each layer's output gradients, then one batched {@code δᵀa} per layer); other graphs
 * broadcast every parameter to a leading batch axis and take the gradient with respect to those
 * broadcast copies. Either way: one forward and one backward pass for the whole batch. HVPs are
 * the forward-mode derivative of the recorded gradient in the direction v ({@link Autodiff#jvp}
 * over the forward and backward passes: forward over reverse).
 * Gauss-Newton products {@code (1/n) Σ_i J_iᵀ H_ℓ,i J_i v} get {@code J v} in forward mode
 * ({@link Autodiff#jvp}: one sweep over the recorded forward pass, no backward pass), apply the loss
 * curvature in closed form, and take one VJP.
 *
 * @param <A> the backend's array type
 */
public final class GraphDerivatives<A> {

    private final ModelGraph graph;
    private final Kernels<A> k;
    private final Autodiff<A> ad;
    private final GraphEvaluator<A> evaluator;
    private final List<A> parameters;
    private final List<ParameterInfo> layout;

    /**
     * @param graph      the model
     * @param indexCache the model's gather-index cache ({@link GraphEvaluator#newIndexCache()})
     * @param kernels    kernels bound to the current call's memory context
     * @param parameters the parameter arrays in layout order, with their own shapes
     */
    public GraphDerivatives(ModelGraph graph, Map<String, int[]> indexCache, Kernels<A> kernels, List<A> parameters) {
        this.graph = graph;
        this.k = kernels;
        this.ad = new Autodiff<>(kernels);
        this.evaluator = new GraphEvaluator<>(graph, indexCache, ad);
        this.parameters = parameters;
        this.layout = graph.parameterLayout();
    }

    /** @return the outputs {@code [n, outputDim]} */
    public A outputs(Batch batch) {
        return forward(batch, constants(), false).value();
    }

    /** @return the per-sample losses {@code [n]} */
    public A perSampleLosses(Batch batch) {
        return losses(batch, forward(batch, constants(), false)).value();
    }

    /** @return ∇θ of the mean loss, {@code [p]} */
    public A gradient(Batch batch) {
        List<Var<A>> leaves = leaves();
        Var<A> mean = meanLoss(batch, leaves);
        return flatten(ad.grad(mean, null, leaves, false), false).value();
    }

    /**
     * @return the per-sample gradients {@code [n, p]} from one batched pass, assembled from every
     *     parameterized layer's tap ({@link #perSampleGradientsFromFactors})
     */
    public A perSampleGradients(Batch batch) {
        return inChunks(batch, chunk -> perSampleRowsOfChunk(chunk, z -> List.of(ad.sumAll(losses(chunk, z)))).get(0));
    }

    /**
     * Square-root factors of the Gauss-Newton matrix of the batch's summed loss: M {@code [n·c, p]}
     * (c = outputDim) with {@code Σ_i J_iᵀ H_ℓ,i J_i = Mᵀ M}; row {@code i·c + j} is
     * {@code J_iᵀ u_{i,j}}, the per-sample vector-Jacobian product of the j-th column of a square
     * root of the loss curvature ({@link GraphEvaluator#lossCurvatureRoots}). One forward pass and c
     * backward passes per chunk of {@link #PER_SAMPLE_CHUNK} samples.
     */
    public A gaussNewtonFactors(Batch batch) {
        return inChunks(batch, this::gaussNewtonFactorsOfChunk);
    }

    private A gaussNewtonFactorsOfChunk(Batch batch) {
        List<A> perColumn = perSampleRowsOfChunk(batch, z -> {
            List<Var<A>> objectives = new ArrayList<>();
            for (A u : evaluator.lossCurvatureRoots(z.value())) {
                objectives.add(ad.sumAll(ad.mul(z, ad.constant(u))));
            }
            return objectives;
        });
        Kernels<A> k = ad.kernels();
        long n = batch.size();
        long p = graph.numParameters();
        if (perColumn.size() == 1) {
            return perColumn.get(0);
        }
        List<A> columns = new ArrayList<>(perColumn.size());
        for (A rows : perColumn) {
            columns.add(k.reshape(rows, n, 1, p));
        }
        return k.reshape(k.concat(columns, 1), n * perColumn.size(), p);
    }

    /** {@link #inChunksAll} of a computation with one array of rows. */
    private A inChunks(Batch batch, java.util.function.Function<Batch, A> ofChunk) {
        return inChunksAll(batch, chunk -> List.of(ofChunk.apply(chunk))).get(0);
    }

    /**
     * {@code ofChunk} of the whole batch when it holds at most {@link #PER_SAMPLE_CHUNK} samples,
     * else of chunks of that size, each in a nested memory context, each of its arrays (one row per
     * sample) joined over the chunks in order.
     */
    private List<A> inChunksAll(Batch batch, java.util.function.Function<Batch, List<A>> ofChunk) {
        if (batch.size() <= PER_SAMPLE_CHUNK) {
            return ofChunk.apply(batch);
        }
        List<List<A>> chunks = new ArrayList<>();
        for (int from = 0; from < batch.size(); from += PER_SAMPLE_CHUNK) {
            Batch chunk = batch.slice(from, Math.min(from + PER_SAMPLE_CHUNK, batch.size()));
            chunks.add(ad.scopedAll(() -> ofChunk.apply(chunk)));
        }
        List<A> joined = new ArrayList<>(chunks.get(0).size());
        for (int j = 0; j < chunks.get(0).size(); j++) {
            List<A> rows = new ArrayList<>(chunks.size());
            for (List<A> chunk : chunks) {
                rows.add(chunk.get(j));
            }
            joined.add(k.concat(rows, 0));
        }
        return joined;
    }

    /**
     * Samples per pass of {@link #perSampleGradients} and {@link #gaussNewtonFactors}: larger
     * batches are taken in chunks of this size, each in a nested memory context, because a pass over
     * a few hundred samples keeps its arrays in cache (the Fashion-MNIST CNN: 0.38 ms per image in
     * one pass of 2,000 against 0.20 ms in passes of 250, on 2 cores).
     */
    static final int PER_SAMPLE_CHUNK = 256;

    /**
     * Per-sample gradients {@code [n, p]} of several objectives of the same outputs, from one forward
     * pass and one backward pass per objective, with the kernels of the current memory context.
     *
     * @param objectives from the outputs {@code [n, outputDim]}, scalars that are sums over the
     *                   samples of per-sample terms; row i of each result is the gradient of sample
     *                   i's term
     */
    private List<A> perSampleRowsOfChunk(Batch batch, java.util.function.Function<Var<A>, List<Var<A>>> objectives) {
        List<A> out = new ArrayList<>();
        Tapped<A> tapped = tapped(batch, name -> true);
        for (Var<A> total : objectives.apply(tapped.outputs())) {
            out.add(perSampleGradientsFromFactors(batch, tapped, deltas(tapped, total)));
        }
        return out;
    }

    /**
     * @param named the parameters' names, or null for all
     * @return how many of their entries {@link #perSampleGradientBlocks} gives as gradient columns: all
     *     but those of the Dense layers on vectors (whose blocks are factors, unless only the bias is
     *     named) and of the Embedding tables (whose blocks are the looked-up rows)
     */
    public static long gradientColumns(ModelGraph graph, java.util.Set<String> named) {
        Map<String, long[]> shapes = graph.shapes();
        long columns = 0;
        for (ParameterInfo info : graph.parameterLayout()) {
            GraphNode node = graph.nodes().get(info.layerIndex());
            boolean factored = factoredDense(graph, shapes, info.layerIndex())
                    && (info.name().endsWith(".weight") || isNamed(named, node.name() + ".weight"));
            if (isNamed(named, info.name()) && !factored && !(node instanceof GraphNode.Embedding)) {
                columns += info.size();
            }
        }
        return columns;
    }

    /** @return whether {@code named} (null: all) holds {@code parameter} */
    private static boolean isNamed(java.util.Set<String> named, String parameter) {
        return named == null || named.contains(parameter);
    }

    /** @return whether a parameter of layer {@code node} is in {@code named} (null: all) */
    private static boolean hasNamed(java.util.Set<String> named, String node) {
        return named == null || isNamed(named, node + ".weight") || isNamed(named, node + ".bias");
    }

    /**
     * @param shapes the graph's per-sample shapes ({@link ModelGraph#shapes()})
     * @return whether node {@code layerIndex} is a Dense layer applied to one row per sample, whose
     *     per-sample gradient {@link #perSampleGradientBlocks} gives as its factors
     */
    private static boolean factoredDense(ModelGraph graph, Map<String, long[]> shapes, int layerIndex) {
        if (!(graph.nodes().get(layerIndex) instanceof GraphNode.Dense d)) {
            return false;
        }
        long size = 1;
        for (long extent : shapes.get(ModelGraph.inputsOf(graph.nodes(), layerIndex).get(0))) {
            size *= extent;
        }
        return size == d.inFeatures();
    }

    /**
     * @return whether node {@code name} is a layer whose weight's per-sample gradient is a sum of
     *     outer products over positions (Dense, Conv2d, Embedding): what the layer factors cover,
     *     unlike the normalisations, which are tapped for the per-sample gradients only
     */
    private boolean weightLayer(String name) {
        GraphNode node = graph.nodes().get(graph.nodeIndex(name));
        return node instanceof GraphNode.Dense || node instanceof GraphNode.Conv2d
                || node instanceof GraphNode.Embedding;
    }

    /**
     * Per-sample gradients {@code [n, p]} assembled from the taps of every parameterized layer (one
     * forward pass with the shared parameters, one GEMM per layer for the whole batch, and one
     * backward pass to the layers' output gradients δ): per layer the batched product
     * {@code Σ_t δ_{i,t} a_{i,t}ᵀ} ({@code [n, out, T]·[n, T, in]}) for the weight ({@code [out, in]},
     * or {@code [out, c·kh·kw]} for a Conv2d, in the weight's row-major order) and
     * {@code Σ_t δ_{i,t}} for the bias; for an Embedding table the rows δ added at their ids; for a
     * LayerNorm or BatchNorm {@code Σ δ ⊙ x̂} and {@code Σ δ} over the positions of each feature or
     * channel; as per-sample autograd hooks do (Opacus, Captum's sample-wise gradients).
     *
     * @param deltas by tapped layer, the gradient with respect to its probe (shaped like the probe)
     */
    private A perSampleGradientsFromFactors(Batch batch, Tapped<A> tapped, Map<String, A> deltas) {
        List<A> parts = new ArrayList<>(layout.size());
        for (ParameterInfo info : layout) {
            parts.add(perSampleGradientOf(info, batch, tapped, deltas));
        }
        return columns(parts);
    }

    /** @return the arrays {@code [n, size_j]} side by side, {@code [n, Σ size_j]} */
    private A columns(List<A> parts) {
        return parts.size() == 1 ? parts.get(0) : ad.kernels().concat(parts, 1);
    }

    /**
     * @return the per-sample gradients {@code [n, size]} of one parameter of a tapped layer (Dense,
     *     Conv2d, Embedding, LayerNorm, BatchNorm)
     */
    private A perSampleGradientOf(ParameterInfo info, Batch batch, Tapped<A> tapped, Map<String, A> deltas) {
        Kernels<A> k = ad.kernels();
        int n = batch.size();
        GraphNode node = graph.nodes().get(info.layerIndex());
        String layer = node.name();
        A delta = deltas.get(layer);
        if (node instanceof GraphNode.Embedding e) {
            int rows = n * e.numEmbeddings();
            return k.reshape(k.scatterRows(delta, GraphEvaluator.perSampleIds(ids(batch), n, e.numEmbeddings()), rows),
                    n, (long) e.numEmbeddings() * e.embeddingDim());
        }
        if (node instanceof GraphNode.LayerNorm || node instanceof GraphNode.BatchNorm) {
            // weight: Σ δ ⊙ x̂, bias: Σ δ, over the positions of each feature (last axis) or channel (axis 1)
            A terms = info.name().endsWith(".weight") ? k.mul(delta, tapped.taps().get(layer).inputs().value()) : delta;
            long features = info.size();
            long positions = GraphEvaluator.size(k.shape(terms)) / n / features;
            A sums = node instanceof GraphNode.LayerNorm
                    ? k.sumTo(k.reshape(terms, n, positions, features), n, 1, features)
                    : k.sumTo(k.reshape(terms, n, features, positions), n, features, 1);
            return k.reshape(sums, n, features);
        }
        if (!(node instanceof GraphNode.Dense || node instanceof GraphNode.Conv2d)) {
            throw new IllegalStateException("node " + layer + " (" + node.op() + ") has parameters but no per-sample"
                    + " gradient rule: tap it in GraphEvaluator and add it to GraphDerivatives.perSampleGradientOf");
        }
        long[] ds = k.shape(delta);
        // [n, out, T]: a native convolution's gradient as it is, rows [n·T, out] transposed per sample
        long out = ds[1];
        long positions = ds.length == 4 ? ds[2] * ds[3] : ds[0] / n;
        A perSample = ds.length == 4 ? k.reshape(delta, n, out, positions)
                : k.permute(k.reshape(delta, n, positions, out), 0, 2, 1);
        if (info.name().endsWith(".bias")) {
            return k.reshape(k.sumTo(perSample, n, out, 1), n, out);
        }
        A inputs = tapped.taps().get(layer).inputs().value();
        long in = k.shape(inputs)[1];
        return k.reshape(k.matmul(perSample, k.reshape(inputs, n, positions, in)), n, out * in);
    }

    /**
     * A block of {@link #perSampleGradientBlocks} ({@link org.influence4j.api.GradientBlock}): gradient
     * columns {@code [n, size]}; or the inputs {@code [n, in]} and output gradients {@code [n, out]}
     * of a Dense layer on vectors, whose per-sample gradient (weight, then the bias when
     * {@code bias}) is their outer product; or the output gradients {@code [n, T, d]} of an
     * Embedding's looked-up rows, the ids being the batch's.
     *
     * @param offset    the block's first parameter in θ
     * @param size      its number of parameters
     * @param gradients the columns, or null
     * @param inputs    a Dense block's inputs, else null
     * @param deltas    a Dense or Embedding block's output gradients, else null
     * @param bias      whether a Dense block ends with the bias
     * @param <A>       the backend's array type
     */
    public record Block<A>(int offset, int size, A gradients, A inputs, A deltas, boolean bias) {

        /** @return the block's arrays: the gradients, the inputs and the output gradients, or the latter */
        List<A> arrays() {
            return gradients != null ? List.of(gradients) : inputs != null ? List.of(inputs, deltas) : List.of(deltas);
        }

        /** @return a block of the same form holding {@code arrays} (as {@link #arrays()} lists them) */
        Block<A> with(List<A> arrays) {
            return gradients != null ? new Block<>(offset, size, arrays.get(0), null, null, false)
                    : inputs != null ? new Block<>(offset, size, null, arrays.get(0), arrays.get(1), bias)
                    : new Block<>(offset, size, null, null, arrays.get(0), false);
        }

        /** @return whether the block is an Embedding's looked-up rows */
        public boolean embeddingRows() {
            return gradients == null && inputs == null;
        }
    }

    /**
     * The per-sample gradients of the named parameters in blocks covering them in θ order: each
     * Dense layer on vectors (one position) as its factors (weight named; with the bias if named), each
     * Embedding as its looked-up rows, the runs of other named parameters as gradient columns; in
     * chunks of {@link #PER_SAMPLE_CHUNK}. One forward pass and one backward pass, which taps only the
     * layers of named parameters and stops at the earliest of them.
     *
     * @param named the parameters' names ({@link ModelGraph#parameterLayout()}), or null for all
     */
    public List<Block<A>> perSampleGradientBlocks(Batch batch, java.util.Set<String> named) {
        return joinedBlocks(batch, named, true);
    }

    /**
     * The per-sample gradients of every parameter with each Embedding table as its looked-up rows and
     * the runs of other parameters (Dense layers too) as gradient columns: what
     * {@link #perSampleGradients} forms, less the tables' {@code [n, V·d]}. In chunks of
     * {@link #PER_SAMPLE_CHUNK}, one forward pass and one backward pass each.
     */
    public List<Block<A>> gradientsWithTableRows(Batch batch) {
        return joinedBlocks(batch, null, false);
    }

    /** {@link #blocksOfChunk} of each chunk, the arrays of each block joined over the chunks. */
    private List<Block<A>> joinedBlocks(Batch batch, java.util.Set<String> named, boolean factorDense) {
        // every chunk's blocks have the same form: the last chunk's (its arrays freed) lays out the joined arrays
        List<Block<A>> form = new ArrayList<>();
        List<A> joined = inChunksAll(batch, chunk -> {
            List<Block<A>> blocks = blocksOfChunk(chunk, named, factorDense);
            form.clear();
            form.addAll(blocks);
            List<A> arrays = new ArrayList<>();
            blocks.forEach(b -> arrays.addAll(b.arrays()));
            return arrays;
        });
        List<Block<A>> out = new ArrayList<>(form.size());
        int j = 0;
        for (Block<A> b : form) {
            int parts = b.arrays().size();
            out.add(b.with(joined.subList(j, j + parts)));
            j += parts;
        }
        return out;
    }

    /**
     * @param named       the parameters' names, or null for all
     * @param factorDense whether a Dense layer on vectors is held as its factors (else as columns)
     */
    private List<Block<A>> blocksOfChunk(Batch batch, java.util.Set<String> named, boolean factorDense) {
        long n = batch.size();
        Tapped<A> tapped = tapped(batch, layer -> hasNamed(named, layer));
        Map<String, A> deltas = deltas(tapped, ad.sumAll(losses(batch, tapped.outputs())));
        Map<String, long[]> shapes = graph.shapes();
        List<Block<A>> out = new ArrayList<>();
        List<A> run = new ArrayList<>();
        int runOffset = 0;
        int runSize = 0;
        for (int t = 0; t < layout.size(); t++) {
            ParameterInfo info = layout.get(t);
            GraphNode node = graph.nodes().get(info.layerIndex());
            boolean embedding = node instanceof GraphNode.Embedding;
            boolean kept = isNamed(named, info.name());
            boolean denseWeight = factorDense && factoredDense(graph, shapes, info.layerIndex())
                    && info.name().endsWith(".weight");
            if (!kept || embedding || denseWeight) {
                if (!run.isEmpty()) {
                    out.add(new Block<>(runOffset, runSize, columns(run), null, null, false));
                    run = new ArrayList<>();
                }
                if (!kept) {
                    continue;
                }
                if (embedding) {
                    A rows = deltas.get(node.name());
                    long[] rs = ad.kernels().shape(rows);
                    out.add(new Block<>(info.offset(), info.size(), null, null,
                            ad.kernels().reshape(rows, n, rs[0] / n, rs[1]), false));
                    continue;
                }
                boolean bias = t + 1 < layout.size() && layout.get(t + 1).name().equals(node.name() + ".bias")
                        && isNamed(named, node.name() + ".bias");
                out.add(new Block<>(info.offset(), info.size() + (bias ? layout.get(t + 1).size() : 0), null,
                        tapped.taps().get(node.name()).inputs().value(), deltas.get(node.name()), bias));
                t += bias ? 1 : 0;
                continue;
            }
            if (run.isEmpty()) {
                runOffset = info.offset();
                runSize = 0;
            }
            run.add(perSampleGradientOf(info, batch, tapped, deltas));
            runSize += info.size();
        }
        if (!run.isEmpty()) {
            out.add(new Block<>(runOffset, runSize, columns(run), null, null, false));
        }
        return out;
    }

    /**
     * @return the values {@link #gradientsWithTableRows} holds per sample: every parameter outside the
     *     Embedding tables, and {@code T·d} for each table (T ids a sample)
     */
    static long valuesWithTableRows(ModelGraph graph) {
        long tokens = GraphEvaluator.size(graph.inputShape());
        long values = graph.numParameters();
        for (GraphNode node : graph.nodes()) {
            if (node instanceof GraphNode.Embedding e) {
                values += (tokens - e.numEmbeddings()) * e.embeddingDim();
            }
        }
        return values;
    }

    /**
     * @return how many of {@code samples} samples {@link #gradientOuterProducts} takes at once: as many
     *     as their {@link #gradientsWithTableRows} fit in {@link GradientChunks#GRADIENT_CHUNK_BYTES}, at
     *     least one
     */
    static int outerProductSlice(ModelGraph graph, int samples) {
        long bytes = valuesWithTableRows(graph) * graph.dtype().bytes();
        return (int) Math.max(1, Math.min(samples, GradientChunks.GRADIENT_CHUNK_BYTES / bytes));
    }

    /**
     * How many arrays of {@code [n·T, d]} per direction {@link #outerProducts} holds at once for a
     * table: the gathered rows and their products, the terms, and the scatter's copies of them.
     */
    private static final int TABLE_PRODUCT_ARRAYS = 6;

    /**
     * {@code Σ_i (v·g_i) g_iᵀ} for each row v of {@code vs} {@code [k, p]} over the batch's samples (n
     * times its empirical Fisher products), from {@link #gradientsWithTableRows}
     * ({@link #outerProducts}).
     *
     * @return {@code [k, p]}
     */
    public A gradientOuterProducts(Batch batch, A vs) {
        return outerProducts(gradientsWithTableRows(batch), graph.intInput() ? ids(batch) : null, vs, 1);
    }

    /**
     * {@code weight · Σ_i (v·g_i) g_iᵀ} for each row v of {@code vs} {@code [k, p]}, the per-sample
     * gradients g_i held as {@link #gradientsWithTableRows}. A table's gradients {@code [n, V·d]} are never formed:
     * its part of {@code v·g_i} is {@code Σ_t δ_{i,t}·v[id_{i,t}]} (v's rows gathered at the ids), and
     * its part of the sum is {@code Σ_{i,t} (v·g_i) δ_{i,t}} added to row {@code id_{i,t}}
     * ({@link Kernels#scatterRows}): {@code k·n·T·d} products against {@code k·n·V·d}. The directions
     * are taken in groups whose {@link #TABLE_PRODUCT_ARRAYS} fit in
     * {@link GradientChunks#GRADIENT_CHUNK_BYTES}, each in a nested memory context.
     *
     * @param ids    the batch's {@code n·T} token ids, sample-major (used by the tables' blocks)
     * @param weight a factor applied to the products (to the projections {@code v·g_i}, {@code [k, n]})
     * @return {@code [k, p]}
     */
    private A outerProducts(List<Block<A>> blocks, int[] ids, A vs, double weight) {
        Kernels<A> k = ad.kernels();
        long directions = k.shape(vs)[0];
        long perDirection = 0;
        for (Block<A> b : blocks) {
            if (b.embeddingRows()) {
                perDirection += TABLE_PRODUCT_ARRAYS * GraphEvaluator.size(k.shape(b.deltas()));
            }
        }
        long group = perDirection == 0 ? directions
                : Math.max(1, GradientChunks.GRADIENT_CHUNK_BYTES / (perDirection * graph.dtype().bytes()));
        if (group >= directions) {
            return outerProductsOfGroup(k, blocks, ids, vs, weight);
        }
        List<A> rows = new ArrayList<>();
        for (long start = 0; start < directions; start += group) {
            long from = start;
            long to = Math.min(directions, start + group);
            rows.add(ad.scopedAll(() -> List.of(outerProductsOfGroup(ad.kernels(), blocks, ids,
                    ad.kernels().slicePadRows(vs, from, to), weight))).get(0));
        }
        return k.concat(rows, 0);
    }

    /** {@link #outerProducts} of directions {@code [k, p]} at once. */
    private static <A> A outerProductsOfGroup(Kernels<A> k, List<Block<A>> blocks, int[] ids, A vs,
                                              double weight) {
        long directions = k.shape(vs)[0];
        // the projections v·g_i, [k, n]
        A projections = null;
        for (Block<A> b : blocks) {
            A term;
            if (b.embeddingRows()) {
                long[] s = k.shape(b.deltas());
                long tokens = s[0] * s[1];
                long d = s[2];
                int vocabulary = Math.toIntExact(b.size() / d);
                A tables = k.reshape(k.sliceColumns(vs, b.offset(), b.offset() + (long) b.size()),
                        directions * vocabulary, d);
                A rows = k.reshape(k.gatherRows(tables, tableRows(ids, vocabulary, directions)), directions, tokens, d);
                A deltas = k.expand(k.reshape(b.deltas(), 1, tokens, d), directions, tokens, d);
                A products = k.reshape(k.mul(rows, deltas), directions, s[0], s[1] * d);
                term = k.reshape(k.sumTo(products, directions, s[0], 1), directions, s[0]);
            } else {
                term = k.matmul(columnsOf(k, vs, b), k.permute(b.gradients(), 1, 0));
            }
            projections = projections == null ? term : k.add(projections, term);
        }
        if (weight != 1) {
            projections = k.scale(projections, weight);
        }
        // each block's columns of weight · Σ_i (v·g_i) g_i, [k, size]
        List<A> parts = new ArrayList<>(blocks.size());
        for (Block<A> b : blocks) {
            if (b.embeddingRows()) {
                long[] s = k.shape(b.deltas());
                long tokens = s[0] * s[1];
                long d = s[2];
                // rows (j, i, t) of [k·n·T, d]: (v_j·g_i) δ_{i,t}, added to row j·V + id_{i,t} of [k·V, d]
                A weights = k.expand(k.reshape(projections, directions, s[0], 1, 1), directions, s[0], s[1], d);
                A deltas = k.expand(k.reshape(b.deltas(), 1, s[0], s[1], d), directions, s[0], s[1], d);
                A terms = k.reshape(k.mul(weights, deltas), directions * tokens, d);
                int vocabulary = Math.toIntExact(b.size() / d);
                parts.add(k.reshape(k.scatterRows(terms, tableRows(ids, vocabulary, directions),
                        Math.toIntExact(directions * vocabulary)), directions, b.size()));
            } else {
                parts.add(k.matmul(projections, b.gradients()));
            }
        }
        return parts.size() == 1 ? parts.get(0) : k.concat(parts, 1);
    }

    /** @return the columns {@code [k, size]} of {@code vs} that a block covers */
    private static <A> A columnsOf(Kernels<A> k, A vs, Block<A> b) {
        return b.offset() == 0 && b.size() == k.shape(vs)[1] ? vs
                : k.sliceColumns(vs, b.offset(), b.offset() + (long) b.size());
    }

    /** @return for direction j and token r, the row {@code j·V + id_r} of the directions' tables {@code [k·V, d]} */
    private static int[] tableRows(int[] ids, int vocabulary, long directions) {
        int[] index = new int[Math.multiplyExact(ids.length, Math.toIntExact(directions))];
        for (int j = 0; j < directions; j++) {
            for (int r = 0; r < ids.length; r++) {
                index[j * ids.length + r] = j * vocabulary + ids[r];
            }
        }
        return index;
    }

    /**
     * The factors of the per-sample gradients of every weight layer (Dense, Conv2d, Embedding), in
     * node order, from one forward and one backward pass: the layer's input rows {@code [n·T, in]}
     * (null for an Embedding) and the output gradients δ = ∂ℓ_i/∂z {@code [n·T, out]} of the
     * per-sample losses, rows ordered (sample, position) ({@link GraphEvaluator.Tap}). Sample i's
     * gradient of the layer's weight {@code [out, in]} is {@code Σ_t δ_{i,t} a_{i,t}ᵀ}.
     *
     * @return per layer: the node index, the θ offset of its weight, the inputs and δ
     */
    public List<LayerFactors<A>> layerFactors(Batch batch) {
        return layerFactors(batch, this::weightLayer);
    }

    /**
     * {@link #layerFactors(Batch)} of a softmax classifier under each label of {@code [from, to)},
     * weighted for the true Fisher: one forward pass, then per class c one backward pass from the
     * output gradient {@code √p_ic (p_i − e_c)} (that of the per-sample loss with label c, times the
     * square root of the model's probability of c; back-propagation is linear in it). The inputs are
     * the one pass's; the δ of the classes are joined, rows ordered (class, sample, position).
     */
    public List<LayerFactors<A>> fisherLayerFactors(Batch batch, int from, int to) {
        Tapped<A> tapped = tapped(batch, this::weightLayer);
        Var<A> z = tapped.outputs();
        long[] zs = ad.shape(z);
        A p = GraphEvaluator.softmax(k, z.value());
        A rootsByClass = k.permute(k.sqrt(p), 1, 0);
        List<String> names = new ArrayList<>(tapped.taps().keySet());
        Map<String, List<A>> perLayer = new java.util.LinkedHashMap<>();
        for (int c = from; c < to; c++) {
            double[] oneHot = new double[(int) zs[1]];
            oneHot[c] = 1;
            A root = k.expand(k.reshape(k.slicePadRows(rootsByClass, c, c + 1), zs[0], 1), zs);
            A seed = k.mul(k.sub(p, k.expand(k.constant(oneHot, 1, zs[1]), zs)), root);
            List<A> rows = ad.scopedAll(() -> {
                List<A> out = new ArrayList<>();
                deltas(tapped, ad.sumAll(ad.mul(z, ad.constant(seed)))).forEach((name, d) ->
                        out.add(tapped.taps().get(name).rows(ad.kernels(), d)));
                return out;
            });
            for (int j = 0; j < names.size(); j++) {
                perLayer.computeIfAbsent(names.get(j), unused -> new ArrayList<>()).add(rows.get(j));
            }
        }
        List<LayerFactors<A>> out = new ArrayList<>();
        perLayer.forEach((name, parts) -> {
            GraphEvaluator.Tap<A> tap = tapped.taps().get(name);
            out.add(new LayerFactors<>(graph.nodeIndex(name), weightOffset(name),
                    tap.inputs() == null ? null : tap.inputs().value(),
                    parts.size() == 1 ? parts.get(0) : k.concat(parts, 0)));
        });
        return out;
    }

    /**
     * {@link #layerFactors(Batch)} of a softmax classifier for pyDVL's pooled estimate: one forward
     * pass and one backward pass from the output gradient {@code (Σ_c √p_ic) p_i − √p_i}, which is
     * {@code Σ_c √p_ic (p_i − e_c)}, the sum of {@link #fisherLayerFactors}' class seeds
     * (back-propagation is linear in it). Rows ordered (sample, position).
     */
    public List<LayerFactors<A>> pooledFisherLayerFactors(Batch batch) {
        Tapped<A> tapped = tapped(batch, this::weightLayer);
        Var<A> z = tapped.outputs();
        long[] zs = ad.shape(z);
        A p = GraphEvaluator.softmax(k, z.value());
        A roots = k.sqrt(p);
        A seed = k.sub(k.mul(p, k.expand(k.sumTo(roots, zs[0], 1), zs)), roots);
        return factors(tapped, ad.sumAll(ad.mul(z, ad.constant(seed))));
    }

    /** {@link #layerFactors(Batch)} of the weight layers whose names {@code which} accepts. */
    private List<LayerFactors<A>> layerFactors(Batch batch, java.util.function.Predicate<String> which) {
        Tapped<A> tapped = tapped(batch, which);
        return factors(tapped, ad.sumAll(losses(batch, tapped.outputs())));
    }

    /** The outputs of a forward pass with the shared parameters and the taps it set on weight layers. */
    private record Tapped<A>(Var<A> outputs, Map<String, GraphEvaluator.Tap<A>> taps) {
    }

    /** One forward pass with the shared parameters, tapping the weight layers {@code which} accepts. */
    private Tapped<A> tapped(Batch batch, java.util.function.Predicate<String> which) {
        Map<String, GraphEvaluator.Tap<A>> taps = new java.util.LinkedHashMap<>();
        Var<A> z = evaluator.outputs(inputOf(batch), graph.intInput() ? ids(batch) : null, batch.size(), constants(),
                false, taps, which);
        return new Tapped<>(z, taps);
    }

    /** @return the tapped layers' factors of {@code total}, a sum over the samples of per-sample terms */
    private List<LayerFactors<A>> factors(Tapped<A> tapped, Var<A> total) {
        List<LayerFactors<A>> out = new ArrayList<>();
        for (Map.Entry<String, A> e : deltas(tapped, total).entrySet()) {
            GraphEvaluator.Tap<A> tap = tapped.taps().get(e.getKey());
            out.add(new LayerFactors<>(graph.nodeIndex(e.getKey()), weightOffset(e.getKey()),
                    tap.inputs() == null ? null : tap.inputs().value(), tap.rows(ad.kernels(), e.getValue())));
        }
        return out;
    }

    /** @return by tapped layer in node order, the gradient of {@code total} with respect to its probe */
    private Map<String, A> deltas(Tapped<A> tapped, Var<A> total) {
        List<Var<A>> probes = new ArrayList<>();
        tapped.taps().values().forEach(t -> probes.add(t.probe()));
        List<Var<A>> grads = ad.grad(total, null, probes, false);
        Map<String, A> out = new java.util.LinkedHashMap<>();
        int j = 0;
        for (String name : tapped.taps().keySet()) {
            out.put(name, grads.get(j++).value());
        }
        return out;
    }

    private int weightOffset(String node) {
        for (ParameterInfo info : layout) {
            if (info.name().equals(node + ".weight")) {
                return info.offset();
            }
        }
        throw new IllegalStateException("node " + node + " has no weight");
    }

    /**
     * The factors of {@link #layerFactors} for the Dense heads only ({@link ModelGraph#factorLayers()}:
     * Dense with bias on per-sample vectors, T = 1): inputs {@code [n, in]}, δ {@code [n, out]}.
     */
    public List<LayerFactors<A>> denseLayerFactors(Batch batch) {
        return layerFactors(batch, graph.factorLayers()::contains);
    }

    /**
     * The per-sample gradient factors of one weight layer.
     *
     * @param nodeIndex       index of the node in {@link ModelGraph#nodes()}
     * @param weightOffset    offset of its weight in θ (its bias, if any, follows)
     * @param inputs          {@code [n·T, in]}; null for an Embedding
     * @param outputGradients {@code [n·T, out]}
     * @param <A>             the backend's array type
     */
    public record LayerFactors<A>(int nodeIndex, int weightOffset, A inputs, A outputGradients) {
    }

    /**
     * @param vs directions {@code [k, p]}
     * @return {@code [k, p]}, row j the Hessian of the mean loss times {@code vs[j]}
     */
    public A hvpBlock(Batch batch, A vs) {
        return batchedOr(batch.size(), vs, part -> batchedHvp(batch, part), rows -> {
            List<Var<A>> leaves = leaves();
            return hvpRows(recordedGradient(batch, leaves), leaves, rows);
        });
    }

    /**
     * @return {@code vs [k, p]} through {@code batched} in passes of several directions where
     *     {@link #directionsPerPass} allows it for n samples, else through {@code perDirection}
     */
    private A batchedOr(int n, A vs, BatchedProduct<A> batched, java.util.function.UnaryOperator<A> perDirection) {
        int per = directionsPerPass(n, (int) ad.kernels().shape(vs)[0]);
        return per > 1 ? inPasses(vs, per, batched) : perDirection.apply(vs);
    }

    /** @return the gradient {@code [p]} of the mean loss, recorded (forward and backward) so it can be differentiated */
    private Var<A> recordedGradient(Batch batch, List<Var<A>> leaves) {
        return flatten(ad.grad(meanLoss(batch, leaves), null, leaves, true), false);
    }

    /**
     * @param g  a recorded gradient of the mean loss with {@code leaves} as θ ({@link #recordedGradient})
     * @param vs directions {@code [k, p]}
     * @return {@code [k, p]}: the Hessian times each row, one forward-mode sweep over g's record per row
     */
    private A hvpRows(Var<A> g, List<Var<A>> leaves, A vs) {
        List<Var<A>> rows = new ArrayList<>();
        for (List<Var<A>> v : directions(vs)) {
            rows.add(ad.scoped(() -> ad.reshape(ad.jvp(g, leaves, v), 1, graph.numParameters())));
        }
        return ad.concat(rows, 0).value();
    }

    /**
     * @param vs directions {@code [k, p]}
     * @return {@code [k, p]}, row j the Gauss-Newton matrix {@code (1/n) Σ_i J_iᵀ H_ℓ,i J_i} times
     *     {@code vs[j]}
     */
    public A gaussNewtonBlock(Batch batch, A vs) {
        return batchedOr(batch.size(), vs, part -> batchedGaussNewton(batch, part), rows -> {
            List<Var<A>> leaves = leaves();
            return gaussNewtonRows(forward(batch, leaves, false), leaves, batch.size(), rows);
        });
    }

    /**
     * @param z      the recorded outputs of a forward pass over n samples with {@code leaves} as θ
     * @param vs     directions {@code [k, p]}
     * @return {@code [k, p]}: the Gauss-Newton matrix of the mean loss times each row, one forward-mode
     *     and one backward sweep over the recorded pass per direction
     */
    private A gaussNewtonRows(Var<A> z, List<Var<A>> leaves, int n, A vs) {
        List<Var<A>> rows = new ArrayList<>();
        for (List<Var<A>> v : directions(vs)) {
            rows.add(ad.scoped(() -> {
                A jv = ad.jvp(z, leaves, v).value();
                A w = ad.kernels().scale(evaluator.lossCurvatureTimes(z.value(), jv), 1.0 / n);
                List<Var<A>> back = ad.grad(ad.sumAll(ad.mul(z, ad.constant(w))), null, leaves, false);
                return ad.reshape(flatten(back, false), 1, graph.numParameters());
            }));
        }
        return ad.concat(rows, 0).value();
    }

    /**
     * The curvature products of one batch from its kept record: what {@link #keepGaussNewton} and
     * {@link #keepHessian} return.
     *
     * @param <A> the backend's array type
     */
    public interface KeptProducts<A> {
        /**
         * @param directions makes the directions {@code [k, p]} with the kernels it is given (those of
         *                   a nested memory context, freed on return)
         * @return {@code [k, p]} as the block product, an array of the kept context's kernels
         */
        A times(java.util.function.Function<Kernels<A>, A> directions);

        /** @return an estimate of the values kept: the recorded passes and θ */
        long keptValues();
    }

    /**
     * @param recordsPerRow how many arrays of the size of the node outputs the record holds per sample
     * @param recorded      the product from the record, one direction at a time
     * @param batched       the product of a block the batched path takes
     */
    private KeptProducts<A> kept(Batch batch, int recordsPerRow, java.util.function.UnaryOperator<A> recorded,
                                 BatchedProduct<A> batched) {
        int n = batch.size();
        long values = Math.addExact(Math.multiplyExact((long) recordsPerRow * n, nodeValuesPerRow()),
                graph.numParameters());
        return new KeptProducts<>() {
            @Override
            public A times(java.util.function.Function<Kernels<A>, A> directions) {
                return ad.scopedAll(() -> List.of(batchedOr(n, directions.apply(ad.kernels()), batched, recorded)))
                        .get(0);
            }

            @Override
            public long keptValues() {
                return values;
            }
        };
    }

    /**
     * Keeps the batch's {@link #gradientsWithTableRows} for products of its empirical Fisher that then
     * make no pass over the model: each is {@link #outerProducts}{@code / n}, in a nested memory context.
     */
    public KeptProducts<A> keepEmpiricalFisher(Batch batch) {
        List<Block<A>> blocks = gradientsWithTableRows(batch);
        int[] ids = graph.intInput() ? ids(batch) : null;
        int n = batch.size();
        long values = Math.multiplyExact(n, valuesWithTableRows(graph));
        return new KeptProducts<>() {
            @Override
            public A times(java.util.function.Function<Kernels<A>, A> directions) {
                return ad.scopedAll(() -> {
                    Kernels<A> k = ad.kernels();
                    return List.of(outerProducts(blocks, ids, directions.apply(k), 1.0 / n));
                }).get(0);
            }

            @Override
            public long keptValues() {
                return values;
            }
        };
    }

    /**
     * Records one forward pass over {@code batch} and keeps it, with the parameters these derivatives
     * were made with, for products of the Gauss-Newton matrix ({@link #gaussNewtonBlock}) that then
     * sweep the recorded pass only (forward mode for J v, reverse for Jᵀ w). Every product runs in a
     * nested memory context, so only its result is added to this context. Blocks of directions that
     * {@link #gaussNewtonBlock} would batch (small batches) are computed that way, without the record.
     */
    public KeptProducts<A> keepGaussNewton(Batch batch) {
        List<Var<A>> leaves = leaves();
        Var<A> z = forward(batch, leaves, false);
        return kept(batch, 2, vs -> gaussNewtonRows(z, leaves, batch.size(), vs),
                part -> batchedGaussNewton(batch, part));
    }

    /**
     * Records the forward and backward passes of the mean loss's gradient over {@code batch} and keeps
     * them, for Hessian-vector products ({@link #hvpBlock}) that then sweep the record in forward mode
     * only. As {@link #keepGaussNewton} otherwise.
     */
    public KeptProducts<A> keepHessian(Batch batch) {
        List<Var<A>> leaves = leaves();
        Var<A> g = recordedGradient(batch, leaves);
        return kept(batch, 4, vs -> hvpRows(g, leaves, vs), part -> batchedHvp(batch, part));
    }

    // ---- block products with the directions batched ---------------------------------------------
    //
    // c directions at once: the parameters get c copies (leaves [c, ...shape]), each copy is broadcast
    // over the n samples of a batch replicated c times (rows ordered (direction j, sample i)), and one
    // forward pass, one backward pass and one forward-mode sweep over c·n rows yield all c products.
    // The same arithmetic as c separate passes, in a few large operations instead of many small ones;
    // memory c·n·p for the broadcast parameters, so c is bounded by BATCHED_VALUES.

    /**
     * At most this many values per pass in what the c·n rows hold: the broadcast parameter copies,
     * every node's output and every convolution's im2col patches (about 32 MB in float64).
     */
    private static final long BATCHED_VALUES = 1L << 22;

    /** @return how many of k directions one batched pass takes (1: the loop over directions is used) */
    private int directionsPerPass(int n, int kDirections) {
        long perDirection = Math.max(1L, (long) n * valuesPerRow());
        return (int) Math.max(1, Math.min(kDirections, BATCHED_VALUES / perDirection));
    }

    /** @return the values one row of a batched pass holds: p, the node outputs and the im2col patches */
    private long valuesPerRow() {
        long values = graph.numParameters() + nodeValuesPerRow();
        Map<String, long[]> shapes = graph.shapes();
        for (GraphNode node : graph.nodes()) {
            if (node instanceof GraphNode.Conv2d c) {
                long[] out = shapes.get(node.name());
                values += out[1] * out[2] * c.inChannels() * c.kernel().h() * c.kernel().w();
            }
        }
        return values;
    }

    /** @return the values of every node's output for one sample */
    private long nodeValuesPerRow() {
        Map<String, long[]> shapes = graph.shapes();
        long values = 0;
        for (GraphNode node : graph.nodes()) {
            long size = 1;
            for (long d : shapes.get(node.name())) {
                size *= d;
            }
            values += size;
        }
        return values;
    }

    /** One batched product of directions {@code [c, p]}. */
    @FunctionalInterface
    private interface BatchedProduct<A> {
        Var<A> apply(A directions);
    }

    /** Applies {@code product} to the rows of {@code vs} in passes of at most {@code per} directions. */
    private A inPasses(A vs, int per, BatchedProduct<A> product) {
        long total = k.shape(vs)[0];
        List<Var<A>> parts = new ArrayList<>();
        for (long from = 0; from < total; from += per) {
            long to = Math.min(total, from + per);
            long start = from;
            parts.add(ad.scoped(() -> product.apply(ad.kernels().slicePadRows(vs, start, to))));
        }
        return parts.size() == 1 ? parts.get(0).value() : ad.concat(parts, 0).value();
    }

    /** @return {@code [c, p]}: the Hessian of the mean loss times each of the c rows of {@code vs} */
    private Var<A> batchedHvp(Batch batch, A vs) {
        int c = (int) ad.kernels().shape(vs)[0];
        int n = batch.size();
        Batch replicated = replicate(batch, c);
        List<Var<A>> copies = parameterCopies(c);
        Var<A> z = forward(replicated, broadcast(copies, c, n), true);
        Var<A> mean = ad.scale(ad.sumAll(losses(replicated, z)), 1.0 / n);
        List<Var<A>> g = ad.grad(mean, null, copies, true);
        return ad.jvp(flatten(g, true), copies, stacked(vs, c));
    }

    /** @return {@code [c, p]}: the Gauss-Newton matrix times each of the c rows of {@code vs} */
    private Var<A> batchedGaussNewton(Batch batch, A vs) {
        Kernels<A> kc = ad.kernels();
        int c = (int) kc.shape(vs)[0];
        int n = batch.size();
        Batch replicated = replicate(batch, c);
        List<Var<A>> copies = parameterCopies(c);
        Var<A> z = forward(replicated, broadcast(copies, c, n), true);
        // row (j, i) of J v: J_i v_j
        A jv = ad.jvp(z, copies, stacked(vs, c)).value();
        A w = kc.scale(evaluator.lossCurvatureTimes(z.value(), jv), 1.0 / n);
        return flatten(ad.grad(ad.sumAll(ad.mul(z, ad.constant(w))), null, copies, false), true);
    }

    /** @return c copies of every parameter as leaves {@code [c, ...shape]} */
    private List<Var<A>> parameterCopies(int c) {
        Kernels<A> kc = ad.kernels();
        List<Var<A>> out = new ArrayList<>(parameters.size());
        for (A p : parameters) {
            long[] s = kc.shape(p);
            out.add(ad.leaf(kc.expand(kc.reshape(p, prepend(1, s)), prepend(c, s))));
        }
        return out;
    }

    /** @return each copy {@code [c, ...shape]} broadcast to the rows (j, i): {@code [c·n, ...shape]} */
    private List<Var<A>> broadcast(List<Var<A>> copies, int c, int n) {
        List<Var<A>> out = new ArrayList<>(copies.size());
        for (Var<A> copy : copies) {
            long[] s = ad.shape(copy);
            long[] shape = java.util.Arrays.copyOfRange(s, 1, s.length);
            Var<A> perDirection = ad.reshape(copy, prepend(c, prepend(1, shape)));
            out.add(ad.reshape(ad.expand(perDirection, prepend(c, prepend(n, shape))), prepend((long) c * n, shape)));
        }
        return out;
    }

    /** @return the rows of {@code vs [c, p]} split into constants shaped {@code [c, ...shape]} per parameter */
    private List<Var<A>> stacked(A vs, int c) {
        Kernels<A> kc = ad.kernels();
        List<Var<A>> out = new ArrayList<>(layout.size());
        List<A> pieces = parameterColumns(kc, vs);
        for (int t = 0; t < layout.size(); t++) {
            out.add(ad.constant(kc.reshape(pieces.get(t), prepend(c, layout.get(t).shape()))));
        }
        return out;
    }

    /** @return per parameter, its columns of {@code vs [k, p]}: {@code [k, size]} */
    private List<A> parameterColumns(Kernels<A> kc, A vs) {
        A columns = kc.permute(vs, 1, 0);
        List<A> pieces = new ArrayList<>(layout.size());
        for (ParameterInfo info : layout) {
            pieces.add(kc.permute(kc.slicePadRows(columns, info.offset(), info.offset() + (long) info.size()), 1, 0));
        }
        return pieces;
    }

    /** @return {@code batch} repeated c times, rows ordered (copy j, sample i), features in their storage */
    private static Batch replicate(Batch batch, int c) {
        int ys = batch.y().length;
        double[] y = new double[Math.multiplyExact(ys, c)];
        for (int j = 0; j < c; j++) {
            System.arraycopy(batch.y(), 0, y, j * ys, ys);
        }
        return new Batch(batch.features().repeat(c), y, batch.labelWidth());
    }

    /**
     * @param vs directions {@code [k, p]}
     * @return {@code [k, n, inputSize]}, entry {@code [j, i]} the gradient with respect to the
     *     features of sample i of {@code ⟨vs[j], ∇θ ℓ_i⟩}
     */
    public A mixedGradientProducts(Batch batch, A vs) {
        if (graph.intInput()) {
            throw new UnsupportedOperationException("mixed derivatives ∇x∇θ need continuous inputs; this model reads"
                    + " token ids");
        }
        int n = batch.size();
        List<Var<A>> leaves = leaves();
        Var<A> x = ad.leaf(k.constant(batch.features(), prepend(n, graph.inputShape())));
        Var<A> total = ad.sumAll(losses(batch, forward(batch, leaves, false, x)));
        List<Var<A>> g = ad.grad(total, null, leaves, true);
        List<Var<A>> rows = new ArrayList<>();
        for (List<Var<A>> v : directions(vs)) {
            rows.add(ad.scoped(() -> ad.reshape(ad.grad(inner(g, v), null, List.of(x), false).get(0), 1, n,
                    graph.inputSize())));
        }
        return ad.concat(rows, 0).value();
    }

    // ---------------------------------------------------------------------------------------------

    private List<Var<A>> constants() {
        List<Var<A>> out = new ArrayList<>(parameters.size());
        for (A p : parameters) {
            out.add(ad.constant(p));
        }
        return out;
    }

    private List<Var<A>> leaves() {
        List<Var<A>> out = new ArrayList<>(parameters.size());
        for (A p : parameters) {
            out.add(ad.leaf(p));
        }
        return out;
    }

    private Var<A> forward(Batch batch, List<Var<A>> params, boolean perSample) {
        return forward(batch, params, perSample, inputOf(batch));
    }

    private Var<A> inputOf(Batch batch) {
        return graph.intInput() ? null
                : ad.constant(ad.kernels().constant(batch.features(), prepend(batch.size(), graph.inputShape())));
    }

    private Var<A> forward(Batch batch, List<Var<A>> params, boolean perSample, Var<A> x) {
        return evaluator.outputs(x, graph.intInput() ? ids(batch) : null, batch.size(), params, perSample);
    }

    /** @return the batch's features as token ids, row-major (validated ids: {@code ModelSpec.validate}) */
    static int[] ids(Batch batch) {
        HostArray values = batch.features();
        int[] ids = new int[values.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) values.get(i);
        }
        return ids;
    }

    private Var<A> losses(Batch batch, Var<A> z) {
        return evaluator.perSampleLosses(z, graph.loss().targets(batch.y(), graph.outputDim()));
    }

    private Var<A> meanLoss(Batch batch, List<Var<A>> leaves) {
        Var<A> l = losses(batch, forward(batch, leaves, false));
        return ad.scale(ad.sumAll(l), 1.0 / batch.size());
    }

    /** @return {@code Σ_t ⟨a_t, b_t⟩}, shape {@code [1]} */
    private Var<A> inner(List<Var<A>> a, List<Var<A>> b) {
        Var<A> sum = null;
        for (int t = 0; t < a.size(); t++) {
            Var<A> term = ad.sumAll(ad.mul(a.get(t), b.get(t)));
            sum = sum == null ? term : ad.add(sum, term);
        }
        return sum;
    }

    /** Splits each row of {@code vs} {@code [k, p]} into constant pieces shaped like the parameters. */
    private List<List<Var<A>>> directions(A vs) {
        Kernels<A> kc = ad.kernels();
        long[] s = kc.shape(vs);
        List<List<Var<A>>> out = new ArrayList<>();
        List<A> pieces = parameterColumns(kc, vs);
        for (long j = 0; j < s[0]; j++) {
            List<Var<A>> row = new ArrayList<>(layout.size());
            for (int t = 0; t < layout.size(); t++) {
                A piece = kc.slicePadRows(pieces.get(t), j, j + 1);
                row.add(ad.constant(kc.reshape(piece, layout.get(t).shape())));
            }
            out.add(row);
        }
        return out;
    }

    /** @return the gradients joined into {@code [p]}, or {@code [n, p]} when they carry a batch axis */
    private Var<A> flatten(List<Var<A>> grads, boolean perSample) {
        List<Var<A>> parts = new ArrayList<>(grads.size());
        for (int t = 0; t < grads.size(); t++) {
            long size = layout.get(t).size();
            parts.add(perSample ? ad.reshape(grads.get(t), ad.shape(grads.get(t))[0], size)
                    : ad.reshape(grads.get(t), size));
        }
        return ad.concat(parts, perSample ? 1 : 0);
    }

    private static long[] prepend(long first, long[] rest) {
        long[] s = new long[rest.length + 1];
        s[0] = first;
        System.arraycopy(rest, 0, s, 1, rest.length);
        return s;
    }
}
