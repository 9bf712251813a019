package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Influence functions with the eigenvalue-corrected Kronecker-factored curvature (pyDVL's
 * {@code EkfacInfluence}; George et al. 2018, Martens and Grosse 2015, and for convolutions Grosse
 * and Martens' KFC, as kronfluence does), for models with softmax cross-entropy made of Dense layers
 * or of a layer graph (Dense, Conv2d, Embedding and layers with other parameters).
 *
 * <p><b>Curvature.</b> The curvature is block diagonal over the blocks of {@link EkfacLayer}, one per
 * layer with parameters. For a Dense or Conv2d layer, whose per-sample gradient is
 * {@code Σ_t δ_t ã_tᵀ} over its positions t (one for Dense on vectors, the output positions of a
 * convolution with ã_t its im2col patch, {@code ã = [a, 1]} with a bias;
 * {@link TwiceDifferentiable#layerGradientFactors}), {@link #fit} estimates
 * {@code A = (1/n) Σ_i Σ_t ã ãᵀ} and {@code G}, an expectation of {@code δ δᵀ} over the model's
 * predictive distribution and the positions ({@link EkfacCurvature}), so that {@code A ⊗ G} is
 * K-FAC's (KFC's, under its spatial homogeneity and uncorrelated-derivatives assumptions)
 * approximation of the layer's Gauss-Newton block; their eigendecompositions
 * {@code A = Q_A Λ_A Q_Aᵀ}, {@code G = Q_G Λ_G Q_Gᵀ} (EJML, symmetric QR); and the eigenvalues
 * {@code Λ_G ⊗ Λ_A} or, with {@link EkfacOptions#updateDiagonal()}, their refit: the mean squared
 * per-sample gradient in the eigenbasis. An Embedding's A is diagonal (expected id counts), so its
 * eigenbasis is {@code I ⊗ Q_G}. The parameters of other layers (LayerNorm, BatchNorm) get a diagonal
 * block: the mean squared per-sample gradient, always refit. Then
 * {@code H_l⁻¹ v = Q diag(1/(d_l + λ)) Qᵀ v}. It approximates the Gauss-Newton (= Fisher) matrix of
 * the mean loss, not the full Hessian: no negative curvature, no cross-layer terms.
 *
 * <p><b>Definition, shapes and sign</b> are those of {@link InfluenceFunctionModel} with this
 * approximate H: UP influences {@code [m, n]}, positive for proponents; PERTURBATION influences
 * {@code [m, n, inputDim]} (pyDVL's EK-FAC has no perturbation mode; here the combined factors are
 * contracted with {@link TwiceDifferentiable#mixedGradientProducts}). Per-layer variants return maps
 * from the layer index ({@link EkfacLayer#layerIndex()}) to the layer's share; the shares sum to the
 * total. Per-layer factors are {@code [m, p_l]} in the layer's own flat order (W row-major, then b).
 *
 * <p><b>Cost.</b> {@link #fit} makes one pass over the data with one backward pass per class, plus,
 * for the refit, one more such pass (Dense layers on vectors, whose gradients are rank one) or a pass
 * of batched per-sample gradients per class (other layers and diagonal blocks; memory
 * {@code batchSize × p} per chunk). A solve is a few layer-sized matrix products per layer. All heavy
 * products run on the backend; only layer-sized matrices come to the host.
 *
 * <p>Holds no native memory between calls. Not thread-safe.
 */
public final class EkfacInfluence implements InfluenceFunctionModel {

    private static final Logger LOG = LoggerFactory.getLogger(EkfacInfluence.class);

    /** How the message for a backend without mixed derivatives ends. */
    private static final String MIXED_ADVICE = "use InfluenceMode.UP";

    private final TwiceDifferentiable model;
    private final EkfacOptions options;
    private final List<Block> blocks;
    private List<EkfacLayer> layers;

    /**
     * @param model   a trained model with softmax cross-entropy, on a backend with
     *                {@link BackendCapability#DENSE_LAYER_FACTORS}
     * @param options λ, diagonal refit, curvature estimate, chunk size
     * @throws IllegalArgumentException naming {@code model} if its loss or backend does not fit
     */
    public EkfacInfluence(TwiceDifferentiable model, EkfacOptions options) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use EkfacOptions.of(lambda, true)");
        }
        if (model.spec().loss() != Loss.SOFTMAX_CROSS_ENTROPY) {
            throw new IllegalArgumentException("model: EK-FAC needs the softmax cross-entropy loss, got "
                    + model.spec().loss() + "; use DirectInfluence or CgInfluence for other losses");
        }
        if (!model.backend().capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS)) {
            throw new IllegalArgumentException("model: backend " + model.backend().name()
                    + " does not provide per-layer gradient factors (capability DENSE_LAYER_FACTORS),"
                    + " which EK-FAC needs; use a backend that does (djl-pytorch)");
        }
        this.model = model;
        this.options = options;
        this.blocks = blocks(model.spec());
    }

    /** One block of the curvature before fitting: its kind and place in θ. */
    private record Block(EkfacLayer.Kind kind, int layerIndex, int offset, int in, int out, boolean bias) {

        boolean kronecker() {
            return kind == EkfacLayer.Kind.DENSE || kind == EkfacLayer.Kind.CONV2D;
        }

        int augmented() {
            return in + (bias ? 1 : 0);
        }

        int numParameters() {
            return kronecker() ? out * augmented() : in * out;
        }
    }

    /** @return the blocks covering θ in order: one per layer with parameters */
    private static List<Block> blocks(ModelSpec spec) {
        List<Block> out = new ArrayList<>();
        List<ParameterInfo> infos = spec.parameterLayout();
        if (!spec.isGraph()) {
            for (int k = 0; k < infos.size(); k += 2) {
                ParameterInfo w = infos.get(k);
                out.add(new Block(EkfacLayer.Kind.DENSE, w.layerIndex(), w.offset(), (int) w.shape()[1],
                        (int) w.shape()[0], true));
            }
            return List.copyOf(out);
        }
        List<GraphNode> nodes = spec.graph().nodes();
        for (int k = 0; k < infos.size(); ) {
            ParameterInfo first = infos.get(k);
            int node = first.layerIndex();
            int size = 0;
            while (k < infos.size() && infos.get(k).layerIndex() == node) {
                size += infos.get(k++).size();
            }
            GraphNode g = nodes.get(node);
            if (g instanceof GraphNode.Dense d) {
                out.add(new Block(EkfacLayer.Kind.DENSE, node, first.offset(), d.inFeatures(), d.outFeatures(),
                        d.bias()));
            } else if (g instanceof GraphNode.Conv2d c) {
                out.add(new Block(EkfacLayer.Kind.CONV2D, node, first.offset(),
                        c.inChannels() * c.kernel().h() * c.kernel().w(), c.outChannels(), c.bias()));
            } else if (g instanceof GraphNode.Embedding e) {
                out.add(new Block(EkfacLayer.Kind.EMBEDDING, node, first.offset(), e.numEmbeddings(),
                        e.embeddingDim(), false));
            } else {
                out.add(new Block(EkfacLayer.Kind.DIAGONAL, node, first.offset(), size, 1, false));
            }
        }
        return List.copyOf(out);
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    /** @return the options */
    public EkfacOptions options() {
        return options;
    }

    /** @return the fitted per-layer representation, in layer order, if fitted */
    public Optional<List<EkfacLayer>> representation() {
        return Optional.ofNullable(layers);
    }

    /**
     * Estimates the Kronecker factors on {@code trainingData}, decomposes them and refits the
     * eigenvalues where asked (and always for diagonal blocks). Refitting replaces the previous
     * representation.
     *
     * @throws IllegalArgumentException naming {@code trainingData} if it is null or does not fit the model
     */
    @Override
    public EkfacInfluence fit(DataSource trainingData) {
        if (trainingData == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        long start = System.nanoTime();
        int numBlocks = blocks.size();
        double[][] aSum = new double[numBlocks][];
        double[][] gSum = new double[numBlocks][];
        int[] positions = new int[numBlocks];
        for (int l = 0; l < numBlocks; l++) {
            Block b = blocks.get(l);
            aSum[l] = new double[b.kronecker() ? b.augmented() * b.augmented()
                    : b.kind() == EkfacLayer.Kind.EMBEDDING ? b.in() : 0];
            gSum[l] = new double[b.kind() == EkfacLayer.Kind.DIAGONAL ? 0 : b.out() * b.out()];
        }
        long count = factorPass(trainingData, (chunk, scope, factors, gradients) -> {
            for (int l = 0; l < numBlocks; l++) {
                LayerGradientFactors f = factors.get(l);
                if (f == null) {
                    continue;
                }
                positions[l] = f.positions();
                if (f.kind() == LayerGradientFactors.Kind.EMBEDDING) {
                    for (int id : f.ids()) {
                        aSum[l][id] += 1;
                    }
                } else {
                    addInputFactor(aSum[l], f.inputs(), f.bias(), scope);
                }
                Tensor d = gradients.get(l);
                try (Tensor dt = d.transpose(); Tensor gg = dt.matmul(d)) {
                    add(gSum[l], gg.toDoubleArray());
                }
            }
        });
        List<EkfacLayer> fitted = new ArrayList<>(numBlocks);
        for (int l = 0; l < numBlocks; l++) {
            fitted.add(kfac(blocks.get(l), scaled(aSum[l], 1.0 / count),
                    scaled(gSum[l], 1.0 / ((double) count * Math.max(1, positions[l])))));
        }
        // the rank-one refit costs a pass of layer factors; when some block needs per-sample
        // gradients anyway, every block is refit from them in that one pass
        boolean allRankOne = true;
        for (int l = 0; l < numBlocks; l++) {
            allRankOne &= blocks.get(l).kronecker() && positions[l] == 1;
        }
        boolean[] rankOne = new boolean[numBlocks];
        boolean[] fromGradients = new boolean[numBlocks];
        for (int l = 0; l < numBlocks; l++) {
            rankOne[l] = options.updateDiagonal() && allRankOne;
            fromGradients[l] = blocks.get(l).kind() == EkfacLayer.Kind.DIAGONAL
                    || (options.updateDiagonal() && !allRankOne);
        }
        if (any(rankOne)) {
            fitted = refitRankOne(trainingData, fitted, rankOne);
        }
        if (any(fromGradients)) {
            fitted = refitFromGradients(trainingData, fitted, fromGradients);
        }
        this.layers = List.copyOf(fitted);
        LOG.info("fitted EK-FAC ({} blocks, {}, diagonal refit {}) on {} samples in {} ms", numBlocks,
                options.curvature(), options.updateDiagonal(), count, (System.nanoTime() - start) / 1_000_000);
        return this;
    }

    /** The K-FAC representation of a block from its factor estimates (a diagonal block gets zeros). */
    private static EkfacLayer kfac(Block b, double[] a, double[] g) {
        double[] none = new double[0];
        if (b.kind() == EkfacLayer.Kind.DIAGONAL) {
            return new EkfacLayer(b.kind(), b.layerIndex(), b.offset(), b.in(), 1, false, none, none, none, none, none,
                    none, new double[b.in()]);
        }
        double[][] eg = eigh(g, b.out());
        double[] diag = new double[b.numParameters()];
        if (b.kind() == EkfacLayer.Kind.EMBEDDING) {
            for (int v = 0; v < b.in(); v++) {
                for (int o = 0; o < b.out(); o++) {
                    diag[v * b.out() + o] = a[v] * eg[0][o];
                }
            }
            return new EkfacLayer(b.kind(), b.layerIndex(), b.offset(), b.in(), b.out(), false, a, g, a, none, eg[0],
                    eg[1], diag);
        }
        int sa = b.augmented();
        double[][] ea = eigh(a, sa);
        for (int o = 0; o < b.out(); o++) {
            for (int j = 0; j < sa; j++) {
                diag[o * sa + j] = eg[0][o] * ea[0][j];
            }
        }
        return new EkfacLayer(b.kind(), b.layerIndex(), b.offset(), b.in(), b.out(), b.bias(), a, g, ea[0], ea[1],
                eg[0], eg[1], diag);
    }

    /** What one chunk contributes: the layer factors and the per-class (or pyDVL-combined) output gradients. */
    @FunctionalInterface
    private interface ChunkConsumer {
        /**
         * @param factors   per block, the factors of the label-0 pass (for inputs and ids); null for a
         *                  diagonal block
         * @param gradients per block, the weighted output gradients D; null for a diagonal block
         */
        void accept(Batch chunk, TensorScope scope, List<LayerGradientFactors> factors, List<Tensor> gradients);
    }

    /**
     * One pass over the data with the layer factors. For each chunk and Kronecker block, the consumer
     * receives the factors and the weighted output gradients D: for FISHER the blocks
     * {@code √p_c ∘ δ_c} of all classes c stacked, {@code [C·n·T, out]} (rows ordered (c, i, t)), for
     * PYDVL the single {@code Σ_c √p_c ∘ δ_c}, {@code [n·T, out]}. Hence {@code DᵀD} is n·T times the
     * chunk's share of the G estimate of {@link EkfacCurvature}.
     *
     * @return the number of samples
     */
    private long factorPass(DataSource data, ChunkConsumer consumer) {
        int classes = model.spec().outputDim();
        int numBlocks = blocks.size();
        return forEachChunk(data, (chunk, scope, probs) -> {
            int n = chunk.size();
            List<LayerGradientFactors> first = new ArrayList<>(Collections.nCopies(numBlocks, null));
            List<List<Tensor>> perClass = new ArrayList<>(numBlocks);
            for (int l = 0; l < numBlocks; l++) {
                perClass.add(new ArrayList<>());
            }
            for (int c = 0; c < classes; c++) {
                Iterator<LayerGradientFactors> factors = model.layerGradientFactors(labelled(chunk, c), scope)
                        .iterator();
                for (int l = 0; l < numBlocks; l++) {
                    Block b = blocks.get(l);
                    if (b.kind() == EkfacLayer.Kind.DIAGONAL) {
                        continue;
                    }
                    LayerGradientFactors f = factors.next();
                    if (f.layerIndex() != b.layerIndex()) {
                        throw new IllegalStateException("backend " + model.backend().name() + " returned the factors"
                                + " of layer " + f.layerIndex() + " where layer " + b.layerIndex() + " was expected");
                    }
                    if (c == 0) {
                        first.set(l, f);
                    } else if (f.inputs() != null) {
                        f.inputs().close();
                    }
                    int t = f.positions();
                    double[] w = new double[n * t];
                    for (int i = 0; i < n * t; i++) {
                        w[i] = Math.sqrt(probs[(i / t) * classes + c]);
                    }
                    Tensor d;
                    try (Tensor weights = scope.fromArray(w, model.spec().dtype(), n * t)) {
                        d = f.outputGradients().scaleRows(weights);
                    }
                    f.outputGradients().close();
                    List<Tensor> list = perClass.get(l);
                    if (options.curvature() == EkfacCurvature.FISHER || list.isEmpty()) {
                        list.add(d);
                    } else {
                        Tensor sum = list.get(0).add(d);
                        list.get(0).close();
                        d.close();
                        list.set(0, sum);
                    }
                }
            }
            List<Tensor> gradients = new ArrayList<>(numBlocks);
            for (List<Tensor> list : perClass) {
                gradients.add(list.isEmpty() ? null : InfluenceProducts.stack(list));
            }
            consumer.accept(chunk, scope, first, gradients);
        });
    }

    /** What one chunk contributes with its predictive probabilities. */
    @FunctionalInterface
    private interface ProbabilityConsumer {
        /** @param probs the softmax of the logits {@code [n, C]}, row-major */
        void accept(Batch chunk, TensorScope scope, double[] probs);
    }

    /** @return the number of samples */
    private long forEachChunk(DataSource data, ProbabilityConsumer consumer) {
        ModelSpec spec = model.spec();
        if (data.numFeatures() != spec.inputDim()) {
            throw new IllegalArgumentException("trainingData: has " + data.numFeatures() + " features but the model"
                    + " expects " + spec.inputDim());
        }
        long count = 0;
        Iterator<Batch> it = data.batches(options.batchSize());
        while (it.hasNext()) {
            Batch chunk = it.next();
            spec.validate(chunk, "trainingData");
            count += chunk.size();
            try (TensorScope scope = model.backend().newScope()) {
                double[] z;
                try (Tensor logits = model.forward(chunk, scope)) {
                    z = logits.toDoubleArray();
                }
                consumer.accept(chunk, scope, Loss.softmaxRows(z, spec.outputDim()));
            }
        }
        return count;
    }

    /** @return {@code chunk} with every label set to class {@code c} */
    private static Batch labelled(Batch chunk, int c) {
        double[] labels = new double[chunk.size()];
        Arrays.fill(labels, c);
        return new Batch(chunk.x(), chunk.numFeatures(), labels, 1);
    }

    /** Adds {@code Σ ã ãᵀ} of the rows of {@code a} ({@code ã = [a, 1]} with a bias) to {@code target [sa²]}. */
    private void addInputFactor(double[] target, Tensor a, boolean bias, TensorScope scope) {
        int rows = (int) a.shape()[0];
        int in = (int) a.shape()[1];
        int sa = in + (bias ? 1 : 0);
        double[] ata;
        try (Tensor at = a.transpose(); Tensor p = at.matmul(a)) {
            ata = p.toDoubleArray();
        }
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < in; c++) {
                target[r * sa + c] += ata[r * in + c];
            }
        }
        if (!bias) {
            return;
        }
        double[] colSums;
        try (Tensor at = a.transpose(); Tensor ones = scope.fromArray(filled(rows, 1.0), a.dtype(), rows, 1);
             Tensor s = at.matmul(ones)) {
            colSums = s.toDoubleArray();
        }
        for (int r = 0; r < in; r++) {
            target[r * sa + in] += colSums[r];
            target[in * sa + r] += colSums[r];
        }
        target[in * sa + in] += rows;
    }

    /**
     * The EK-FAC eigenvalue correction of the blocks whose per-sample gradients are rank one (Dense
     * and Conv2d layers with one position):
     * {@code d[o,j] = (1/n) Σ_i Σ_blocks ((D Q_G)_o)² ((ã_i Q_A)_j)²}.
     */
    private List<EkfacLayer> refitRankOne(DataSource data, List<EkfacLayer> fitted, boolean[] selected) {
        double[][] diag = new double[fitted.size()][];
        long count = factorPass(data, (chunk, scope, factors, gradients) -> {
            for (int l = 0; l < fitted.size(); l++) {
                if (!selected[l]) {
                    continue;
                }
                if (diag[l] == null) {
                    diag[l] = new double[fitted.get(l).numParameters()];
                }
                try (TensorScope s = scope.newChild()) {
                    LayerTensors lt = new LayerTensors(fitted.get(l), model.spec().dtype(), s);
                    Tensor a = factors.get(l).inputs();
                    int n = (int) a.shape()[0];
                    Tensor aKfe = a.matmul(lt.qaTop);
                    if (lt.qaLast != null) {
                        aKfe = aKfe.add(s.fromArray(filled(n, 1.0), a.dtype(), n, 1).matmul(lt.qaLast));
                    }
                    Tensor aSq = aKfe.mul(aKfe);
                    // Σ over the stacked blocks (classes) of ((D Q_G)²), then one product with (ã Q_A)²
                    Tensor d = gradients.get(l);
                    int stacked = (int) (d.shape()[0] / n);
                    int out = (int) d.shape()[1];
                    Tensor gKfe = d.matmul(lt.qg);
                    Tensor squares = gKfe.mul(gKfe);
                    Tensor summed = stacked == 1 ? squares : s.fromArray(filled(stacked, 1.0), a.dtype(), 1, stacked)
                            .matmul(squares.reshape(stacked, (long) n * out)).reshape(n, out);
                    add(diag[l], summed.transpose().matmul(aSq).toDoubleArray());
                }
            }
        });
        return withDiagonals(fitted, diag, count);
    }

    /**
     * The EK-FAC eigenvalue correction from batched per-sample gradients, one pass per class: the
     * mean over samples of {@code Σ_c p_c (Qᵀ g_c)²} (FISHER) or {@code (Qᵀ Σ_c √p_c g_c)²} (PYDVL),
     * Q the block's eigenbasis (the identity for a diagonal block).
     */
    private List<EkfacLayer> refitFromGradients(DataSource data, List<EkfacLayer> fitted, boolean[] selected) {
        int classes = model.spec().outputDim();
        double[][] diag = new double[fitted.size()][];
        for (int l = 0; l < fitted.size(); l++) {
            diag[l] = selected[l] ? new double[fitted.get(l).numParameters()] : null;
        }
        long count = forEachChunk(data, (chunk, scope, probs) -> {
            int n = chunk.size();
            Tensor combined = null;
            for (int c = 0; c < classes; c++) {
                try (TensorScope s = scope.newChild()) {
                    double[] w = new double[n];
                    for (int i = 0; i < n; i++) {
                        w[i] = Math.sqrt(probs[i * classes + c]);
                    }
                    Tensor g = model.perSampleGradients(labelled(chunk, c), s)
                            .scaleRows(s.fromArray(w, model.spec().dtype(), n));
                    if (options.curvature() == EkfacCurvature.FISHER) {
                        addSquaredCoordinates(diag, fitted, g, s);
                    } else {
                        Tensor sum = (combined == null ? g : combined.add(g)).moveTo(scope);
                        if (combined != null) {
                            combined.close();
                        }
                        combined = sum;
                    }
                }
            }
            if (combined != null) {
                try (TensorScope s = scope.newChild()) {
                    addSquaredCoordinates(diag, fitted, combined, s);
                }
            }
        });
        return withDiagonals(fitted, diag, count);
    }

    /** Adds, for every selected block, the column sums of the squared eigenbasis coordinates of {@code g [n, p]}. */
    private void addSquaredCoordinates(double[][] diag, List<EkfacLayer> fitted, Tensor g, TensorScope scope) {
        int n = (int) g.shape()[0];
        Tensor ones = scope.fromArray(filled(n, 1.0), g.dtype(), 1, n);
        for (int l = 0; l < fitted.size(); l++) {
            if (diag[l] != null) {
                EkfacLayer layer = fitted.get(l);
                Tensor k = toEigenbasis(g, layer, new LayerTensors(layer, model.spec().dtype(), scope));
                add(diag[l], ones.matmul(k.mul(k)).toDoubleArray());
            }
        }
    }

    /** @return {@code fitted} with the blocks that have a sum in {@code diag} given the diagonal {@code sum / count} */
    private static List<EkfacLayer> withDiagonals(List<EkfacLayer> fitted, double[][] diag, long count) {
        List<EkfacLayer> out = new ArrayList<>(fitted.size());
        for (int l = 0; l < fitted.size(); l++) {
            out.add(diag[l] == null ? fitted.get(l) : fitted.get(l).withDiagonal(scaled(diag[l], 1.0 / count)));
        }
        return out;
    }

    private static boolean any(boolean[] flags) {
        for (boolean f : flags) {
            if (f) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean isFitted() {
        return layers != null;
    }

    /**
     * {@inheritDoc}
     *
     * @return {@code [m, p]}: the per-layer factors laid out in the flat parameter order
     * @throws IllegalArgumentException naming {@code batch} if it does not fit the model
     * @throws InversionException if some {@code d + λ} is not positive (singular factor with λ = 0)
     */
    @Override
    public Tensor influenceFactors(Batch batch, TensorScope scope) {
        requireFitted();
        model.spec().validate(batch, "batch");
        try (TensorScope work = scope.newChild()) {
            return inverseHessianProducts(model.perSampleGradients(batch, work), scope);
        }
    }

    /** {@inheritDoc} Block by block in the Kronecker eigenbases. */
    @Override
    public Tensor inverseHessianProducts(Tensor vectors, TensorScope scope) {
        requireFitted();
        InfluenceProducts.requireVectors(vectors, model.numParameters());
        try (TensorScope work = scope.newChild()) {
            return joinLayers(solveByLayer(vectors, options.hessianRegularization(), work)).moveTo(scope);
        }
    }

    /**
     * The factors {@code H_l⁻¹ ∇θ_l ℓ} of each layer separately (pyDVL's
     * {@code influence_factors_by_layer}).
     *
     * @return layer index → {@code [m, p_l]}, in layer order, tensors owned by {@code scope}
     */
    public Map<Integer, Tensor> influenceFactorsByLayer(Batch batch, TensorScope scope) {
        requireFitted();
        model.spec().validate(batch, "batch");
        try (TensorScope work = scope.newChild()) {
            Tensor gradients = model.perSampleGradients(batch, work);
            return byLayer(solveByLayer(gradients, options.hessianRegularization(), work), scope);
        }
    }

    /**
     * {@inheritDoc} The sum of {@link #influencesByLayer} over layers.
     *
     * @throws IllegalStateException if not fitted
     * @throws IllegalArgumentException naming {@code test} or {@code train} if a batch does not fit
     */
    @Override
    public Tensor influences(Batch test, Batch train, InfluenceMode mode, TensorScope scope) {
        InfluenceProducts.requireMode(mode);
        requireFitted();
        InfluenceProducts.requireBatches(model.spec(), test, train);
        Batch other = train == null ? test : train;
        try (TensorScope work = scope.newChild()) {
            Tensor factors = influenceFactors(test, work);
            return influencesFromFactors(factors, other, mode, work).moveTo(scope);
        }
    }

    /**
     * Influences of each layer separately (pyDVL's {@code influences_by_layer}): with the layer's
     * factors and the layer's part of the training gradients (UP) or mixed derivatives
     * (PERTURBATION, the other layers' factors set to zero).
     *
     * @return layer index → {@code [m, n]} (UP) or {@code [m, n, inputDim]} (PERTURBATION)
     */
    public Map<Integer, Tensor> influencesByLayer(Batch test, Batch train, InfluenceMode mode, TensorScope scope) {
        InfluenceProducts.requireMode(mode);
        requireFitted();
        InfluenceProducts.requireBatches(model.spec(), test, train);
        try (TensorScope work = scope.newChild()) {
            Map<Integer, Tensor> factors = influenceFactorsByLayer(test, work);
            return moveAll(influencesFromFactorsByLayer(factors, train == null ? test : train, mode, work), scope);
        }
    }

    /**
     * {@inheritDoc} Needs only the model, not the fitted representation.
     *
     * @throws IllegalArgumentException if {@code factors} is not {@code [m, p]} or {@code train} does not fit
     */
    @Override
    public Tensor influencesFromFactors(Tensor factors, Batch train, InfluenceMode mode, TensorScope scope) {
        return InfluenceProducts.fromFactors(model, factors, train, mode, options.batchSize(), MIXED_ADVICE, scope);
    }

    /**
     * Influences from per-layer factors (pyDVL's {@code influences_from_factors_by_layer}).
     *
     * @param factors layer index → {@code [m, p_l]}, as from {@link #influenceFactorsByLayer};
     *                every layer of {@link #representation()} must be present
     * @return layer index → {@code [m, n]} (UP) or {@code [m, n, inputDim]} (PERTURBATION)
     * @throws IllegalArgumentException naming {@code factors} if a layer is missing or has the wrong shape
     */
    public Map<Integer, Tensor> influencesFromFactorsByLayer(Map<Integer, Tensor> factors, Batch train,
                                                             InfluenceMode mode, TensorScope scope) {
        InfluenceProducts.requireMode(mode);
        if (factors == null) {
            throw new IllegalArgumentException("factors: must not be null");
        }
        model.spec().validate(train, "train");
        long m = -1;
        for (Block b : blocks) {
            Tensor f = factors.get(b.layerIndex());
            int pl = b.numParameters();
            if (f == null || f.rank() != 2 || f.shape()[1] != pl || (m >= 0 && f.shape()[0] != m)) {
                throw new IllegalArgumentException("factors: layer " + b.layerIndex() + " must map to [m, " + pl
                        + "] (m the same for all layers), got " + (f == null ? "nothing" : Arrays.toString(f.shape()))
                        + "; pass the output of influenceFactorsByLayer");
            }
            m = f.shape()[0];
        }
        if (mode == InfluenceMode.PERTURBATION) {
            InfluenceProducts.requireMixedDerivatives(model, MIXED_ADVICE);
        }
        Map<Integer, Tensor> out = new LinkedHashMap<>();
        try (TensorScope work = scope.newChild()) {
            Tensor gradients = mode == InfluenceMode.UP ? model.perSampleGradients(train, work) : null;
            for (Block b : blocks) {
                Tensor f = factors.get(b.layerIndex());
                Tensor result;
                if (mode == InfluenceMode.UP) {
                    Tensor layerGradients = columns(gradients, b.offset(), b.numParameters());
                    result = f.matmul(layerGradients.transpose());
                } else {
                    result = InfluenceProducts.perturbation(model, embed(f, b.offset(), m, work), train,
                            options.batchSize(), work);
                }
                out.put(b.layerIndex(), result.moveTo(scope));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * UP influences of {@code train} on {@code test} per layer for several values of λ, from one
     * gradient pass over each batch (pyDVL's {@code explore_hessian_regularization}, which uses
     * {@code train = test}): the gradients are rotated into the Kronecker eigenbasis once, and each
     * λ costs one scaled matrix product per layer.
     *
     * @param train            training samples; {@code null} means {@code test} itself (pyDVL)
     * @param regularizations  the λ values, each ≥ 0 and finite, at least one
     * @return λ → (layer index → {@code [m, n]}), in the given order of λ
     * @throws IllegalArgumentException naming {@code regularizations} if empty or a value is out of range
     * @throws InversionException if some {@code d + λ} is not positive
     */
    public Map<Double, Map<Integer, Tensor>> exploreHessianRegularization(Batch test, Batch train,
                                                                          double[] regularizations,
                                                                          TensorScope scope) {
        requireFitted();
        if (regularizations == null || regularizations.length == 0) {
            throw new IllegalArgumentException("regularizations: give at least one λ value");
        }
        for (double lambda : regularizations) {
            if (!(lambda >= 0) || Double.isInfinite(lambda)) {
                throw new IllegalArgumentException("regularizations: every λ must be >= 0 and finite, got " + lambda);
            }
        }
        InfluenceProducts.requireBatches(model.spec(), test, train);
        Map<Double, Map<Integer, Tensor>> out = new LinkedHashMap<>();
        try (TensorScope work = scope.newChild()) {
            List<Tensor> kTest = rotate(model.perSampleGradients(test, work), work);
            List<Tensor> kTrain = train == null ? kTest : rotate(model.perSampleGradients(train, work), work);
            List<Tensor> kTrainT = new ArrayList<>(kTrain.size());
            for (Tensor k : kTrain) {
                kTrainT.add(k.transpose());
            }
            for (double lambda : regularizations) {
                Map<Integer, Tensor> values = new LinkedHashMap<>();
                for (int l = 0; l < layers.size(); l++) {
                    try (TensorScope s = work.newChild()) {
                        Tensor inverse = inverseDiagonal(layers.get(l), lambda, model.spec().dtype(), s);
                        Tensor scaledTest = scaleColumns(kTest.get(l), inverse, s);
                        values.put(layers.get(l).layerIndex(), scaledTest.matmul(kTrainT.get(l)).moveTo(scope));
                    }
                }
                out.put(lambda, Collections.unmodifiableMap(values));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** Not thread-safe. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    /** Drops the fitted representation (no native memory is held). */
    @Override
    public void close() {
        layers = null;
    }

    // ---- the solve in the Kronecker eigenbasis -------------------------------------------------

    /** The eigenvectors of one block as backend matrices (null where the block has none). */
    private static final class LayerTensors {
        final Tensor qaTop;    // Q_A[:in, :]   [in, sa]
        final Tensor qaLast;   // Q_A[in, :]    [1, sa], with a bias
        final Tensor qaTopT;   // [sa, in]
        final Tensor qaLastT;  // [sa, 1]
        final Tensor qg;       // Q_G           [out, out]
        final Tensor qgT;      // Q_Gᵀ

        LayerTensors(EkfacLayer layer, DType dtype, TensorScope scope) {
            int in = layer.inFeatures();
            int sa = layer.augmentedInFeatures();
            int sg = layer.outFeatures();
            boolean kronecker = layer.kind() == EkfacLayer.Kind.DENSE || layer.kind() == EkfacLayer.Kind.CONV2D;
            double[] qa = layer.eigenvectorsA();
            qaTop = kronecker ? scope.fromArray(Arrays.copyOfRange(qa, 0, in * sa), dtype, in, sa) : null;
            qaLast = kronecker && layer.bias() ? scope.fromArray(Arrays.copyOfRange(qa, in * sa, sa * sa), dtype, 1, sa)
                    : null;
            qaTopT = qaTop == null ? null : qaTop.transpose();
            qaLastT = qaLast == null ? null : qaLast.transpose();
            qg = layer.kind() == EkfacLayer.Kind.DIAGONAL ? null : scope.fromArray(layer.eigenvectorsG(), dtype, sg, sg);
            qgT = qg == null ? null : qg.transpose();
        }
    }

    /** Per layer, the rows of {@code flat [m, p]} in the layer's eigenbasis, {@code [m, p_l]}. */
    private List<Tensor> rotate(Tensor flat, TensorScope scope) {
        List<Tensor> out = new ArrayList<>(layers.size());
        for (EkfacLayer layer : layers) {
            out.add(toEigenbasis(flat, layer, new LayerTensors(layer, model.spec().dtype(), scope)));
        }
        return out;
    }

    /**
     * The layer's part of every row of {@code flat [m, p]} in its eigenbasis, {@code [m, p_l]}:
     * {@code Q_Gᵀ [W|b] Q_A} (index o·sa+j) for Dense and Conv2d, {@code W Q_G} (index v·out+k) for an
     * Embedding, the parameters themselves for a diagonal block.
     */
    private static Tensor toEigenbasis(Tensor flat, EkfacLayer layer, LayerTensors lt) {
        int m = (int) flat.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        int off = layer.parameterOffset();
        switch (layer.kind()) {
            case DIAGONAL:
                return columns(flat, off, in);
            case EMBEDDING:
                return columns(flat, off, in * out).reshape((long) m * in, out).matmul(lt.qg).reshape(m, (long) in * out);
            default:
                break;
        }
        int sa = layer.augmentedInFeatures();
        Tensor t = flat.transpose();
        Tensor w = t.rows(off, off + (long) out * in).transpose().reshape((long) m * out, in);
        // x[(s,o), j] = (V_s Q_A)[o, j]
        Tensor x = w.matmul(lt.qaTop);
        if (lt.qaLast != null) {
            Tensor b = t.rows(off + (long) out * in, off + (long) out * in + out).transpose().reshape((long) m * out, 1);
            x = x.add(b.matmul(lt.qaLast));
        }
        // y[(j,s), o'] = (Q_Gᵀ V_s Q_A)[o', j]
        Tensor y = x.transpose().reshape((long) sa * m, out).matmul(lt.qg);
        return y.reshape(sa, (long) m * out).transpose().reshape(m, (long) out * sa);
    }

    /** The inverse of {@link #toEigenbasis}: back to the layer's flat order, {@code [m, p_l]}. */
    private static Tensor fromEigenbasis(Tensor k, EkfacLayer layer, LayerTensors lt) {
        int m = (int) k.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        switch (layer.kind()) {
            case DIAGONAL:
                return k;
            case EMBEDDING:
                return k.reshape((long) m * in, out).matmul(lt.qgT).reshape(m, (long) in * out);
            default:
                break;
        }
        int sa = layer.augmentedInFeatures();
        Tensor z = k.reshape((long) m * out, sa).transpose().reshape((long) sa * m, out).matmul(lt.qgT);
        // r[(s,o), j] = (Q_G K_s)[o, j]
        Tensor r = z.reshape(sa, (long) m * out).transpose();
        Tensor w = r.matmul(lt.qaTopT).reshape(m, (long) out * in);
        if (lt.qaLastT == null) {
            return w;
        }
        Tensor b = r.matmul(lt.qaLastT).reshape(m, out);
        return w.transpose().concat(b.transpose()).transpose();
    }

    /** Per layer, {@code H_l⁻¹} applied to the layer's part of every row of {@code flat [m, p]}. */
    private List<Tensor> solveByLayer(Tensor flat, double lambda, TensorScope scope) {
        List<Tensor> out = new ArrayList<>(layers.size());
        for (EkfacLayer layer : layers) {
            LayerTensors lt = new LayerTensors(layer, model.spec().dtype(), scope);
            Tensor k = toEigenbasis(flat, layer, lt);
            Tensor scaled = scaleColumns(k, inverseDiagonal(layer, lambda, model.spec().dtype(), scope), scope);
            out.add(fromEigenbasis(scaled, layer, lt));
        }
        return out;
    }

    /** @return {@code 1/(d + λ)} as a backend vector */
    private static Tensor inverseDiagonal(EkfacLayer layer, double lambda, DType dtype, TensorScope scope) {
        double[] d = layer.diagonal();
        double min = Double.POSITIVE_INFINITY;
        for (int q = 0; q < d.length; q++) {
            min = Math.min(min, d[q] + lambda);
            d[q] = 1.0 / (d[q] + lambda);
        }
        if (!(min > 0)) {
            throw new InversionException(InversionException.Reason.SINGULAR,
                    "EK-FAC curvature of layer " + layer.layerIndex() + " (" + layer.kind()
                    + ") has an eigenvalue d + λ = " + min + " <= 0 (a singular Kronecker factor, e.g. a constant"
                    + " input feature or an id that never occurs); raise the Hessian regularization λ (e.g. 0.01)");
        }
        return scope.fromArray(d, dtype, d.length);
    }

    /** {@code k ∘ v} with v broadcast over rows: {@code (kᵀ).scaleRows(v)ᵀ}. */
    private static Tensor scaleColumns(Tensor k, Tensor v, TensorScope scope) {
        return k.transpose().scaleRows(v).transpose();
    }

    /** Layer parts {@code [m, p_l]} (in layer order, covering p) joined to {@code [m, p]}. */
    private static Tensor joinLayers(List<Tensor> parts) {
        Tensor stacked = null;
        for (Tensor part : parts) {
            Tensor t = part.transpose();
            stacked = stacked == null ? t : stacked.concat(t);
        }
        return stacked.transpose();
    }

    /** Columns {@code [off, off + width)} of {@code flat [n, p]}. */
    private static Tensor columns(Tensor flat, int off, int width) {
        return flat.transpose().rows(off, off + (long) width).transpose();
    }

    /** A layer's factors {@code [m, p_l]} placed at {@code offset} into zeros {@code [m, p]}. */
    private Tensor embed(Tensor layerFactors, int offset, long m, TensorScope scope) {
        int p = model.numParameters();
        long pl = layerFactors.shape()[1];
        DType dtype = layerFactors.dtype();
        Tensor stacked = layerFactors.transpose();
        if (offset > 0) {
            stacked = scope.zeros(dtype, offset, m).concat(stacked);
        }
        if (offset + pl < p) {
            stacked = stacked.concat(scope.zeros(dtype, p - offset - pl, m));
        }
        return stacked.transpose();
    }

    private Map<Integer, Tensor> byLayer(List<Tensor> parts, TensorScope scope) {
        Map<Integer, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < parts.size(); l++) {
            out.put(layers.get(l).layerIndex(), parts.get(l).moveTo(scope));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<Integer, Tensor> moveAll(Map<Integer, Tensor> map, TensorScope scope) {
        Map<Integer, Tensor> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, v.moveTo(scope)));
        return Collections.unmodifiableMap(out);
    }

    // ---- small host helpers --------------------------------------------------------------------

    /** Symmetric eigendecomposition (EJML): {ascending eigenvalues, eigenvectors as columns (row-major)}. */
    static double[][] eigh(double[] symmetric, int size) {
        DMatrixRMaj matrix = new DMatrixRMaj(size, size, true, symmetric);
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(size, true, true);
        if (!eig.decompose(matrix)) {
            throw new InversionException(InversionException.Reason.NOT_CONVERGED,
                    "EK-FAC: the eigendecomposition of a " + size + "x" + size
                    + " Kronecker factor failed (non-finite values?); check the model and data for NaN/Inf");
        }
        Integer[] order = new Integer[size];
        double[] values = new double[size];
        for (int k = 0; k < size; k++) {
            order[k] = k;
            values[k] = eig.getEigenvalue(k).getReal();
        }
        Arrays.sort(order, (x, y) -> Double.compare(values[x], values[y]));
        double[] sortedValues = new double[size];
        double[] vectors = new double[size * size];
        for (int k = 0; k < size; k++) {
            sortedValues[k] = values[order[k]];
            DMatrixRMaj v = eig.getEigenVector(order[k]);
            for (int r = 0; r < size; r++) {
                vectors[r * size + k] = v.get(r, 0);
            }
        }
        return new double[][] {sortedValues, vectors};
    }

    private static void add(double[] target, double[] values) {
        for (int q = 0; q < target.length; q++) {
            target[q] += values[q];
        }
    }

    private static double[] scaled(double[] values, double factor) {
        double[] out = new double[values.length];
        for (int q = 0; q < values.length; q++) {
            out[q] = values[q] * factor;
        }
        return out;
    }

    private static double[] filled(int n, double value) {
        double[] out = new double[n];
        Arrays.fill(out, value);
        return out;
    }

    private void requireFitted() {
        if (layers == null) {
            throw new IllegalStateException("influence model is not fitted: call fit(trainingData) first");
        }
    }

    @Override
    public String toString() {
        return "EkfacInfluence[" + options + (isFitted() ? ", fitted" : "") + "]";
    }
}
