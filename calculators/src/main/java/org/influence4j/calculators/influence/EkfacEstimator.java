package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.calculators.internal.DenseLinalg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The estimation half of {@link EkfacInfluence} (kronfluence's "fit factors"): from passes over the
 * training data, the Kronecker factors A and G of every block, their eigendecompositions and the
 * eigenvalues (products of the factors' eigenvalues, or their refit from per-sample gradients), as
 * {@link EkfacLayer}s. {@link EkfacInfluence}'s class comment states the definitions and costs.
 * Holds no native memory between calls. Not thread-safe.
 */
final class EkfacEstimator {

    private static final Logger LOG = LoggerFactory.getLogger(EkfacEstimator.class);
    private static final Comparator<Double> ASCENDING = Comparator.naturalOrder();

    private final TwiceDifferentiable model;
    private final EkfacOptions options;
    private final List<Block> blocks;

    /** @param model a model with softmax cross-entropy (checked by {@link EkfacInfluence}) */
    EkfacEstimator(TwiceDifferentiable model, EkfacOptions options) {
        this.model = model;
        this.options = options;
        this.blocks = blocks(model.spec());
    }

    /** @return the blocks covering θ in order */
    List<Block> blocks() {
        return blocks;
    }

    /** One block of the curvature before fitting: its kind and place in θ. */
    record Block(EkfacLayer.Kind kind, int layerIndex, int offset, int in, int out, boolean bias) {

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
    static List<Block> blocks(ModelSpec spec) {
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

    /**
     * Estimates the Kronecker factors on {@code trainingData}, decomposes them and refits the
     * eigenvalues where asked (and always for diagonal blocks).
     *
     * @return the fitted blocks, in order
     * @throws IllegalArgumentException naming {@code trainingData} if it does not fit the model
     */
    List<EkfacLayer> estimate(DataSource trainingData) {
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
        long count = factorPass("EK-FAC factors", trainingData, (chunk, scope, factors, gradients) -> {
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
        LOG.info("estimated EK-FAC ({} blocks, {}, diagonal refit {}) on {} samples in {} ms", numBlocks,
                options.curvature(), options.updateDiagonal(), count, (System.nanoTime() - start) / 1_000_000);
        return List.copyOf(fitted);
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
     * One pass over the data with the layer factors: for FISHER
     * {@link TwiceDifferentiable#fisherLayerGradientFactors} of all classes, for PYDVL
     * {@link TwiceDifferentiable#pooledFisherLayerGradientFactors}. For each chunk and Kronecker
     * block, the consumer receives the factors and the weighted output gradients D: for FISHER the
     * blocks {@code √p_c ∘ δ_c} of all classes c stacked, {@code [C·n·T, out]} (rows ordered (c, i, t)),
     * for PYDVL the single {@code Σ_c √p_c ∘ δ_c}, {@code [n·T, out]}. Hence {@code DᵀD} is n·T times
     * the chunk's share of the G estimate of {@link EkfacCurvature}.
     *
     * @return the number of samples
     */
    private long factorPass(String task, DataSource data, ChunkConsumer consumer) {
        int classes = model.spec().outputDim();
        int numBlocks = blocks.size();
        return forEachChunk(task, data, (chunk, scope) -> {
            List<LayerGradientFactors> first = new ArrayList<>(Collections.nCopies(numBlocks, null));
            List<List<Tensor>> weighted = new ArrayList<>(numBlocks); // per block, the parts of D
            for (int l = 0; l < numBlocks; l++) {
                weighted.add(new ArrayList<>());
            }
            // FISHER: classes share one model call, as many as classGroup allows (fewer, larger calls;
            // same rows, same sums)
            boolean pooled = options.curvature() == EkfacCurvature.PYDVL;
            int group = pooled ? classes : LayerGradientFactors.classGroup(chunk, classes);
            for (int c0 = 0; c0 < classes; c0 += group) {
                int c1 = Math.min(classes, c0 + group);
                Iterator<LayerGradientFactors> factors = (pooled ? model.pooledFisherLayerGradientFactors(chunk, scope)
                        : model.fisherLayerGradientFactors(chunk, c0, c1, scope)).iterator();
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
                    if (c0 == 0) {
                        first.set(l, f);
                    } else if (f.inputs() != null) {
                        f.inputs().close();
                    }
                    weighted.get(l).add(f.outputGradients());
                }
            }
            List<Tensor> gradients = new ArrayList<>(numBlocks);
            for (List<Tensor> list : weighted) {
                gradients.add(list.isEmpty() ? null : DenseLinalg.stackRows(list));
            }
            consumer.accept(chunk, scope, first, gradients);
        });
    }

    /** What one chunk contributes. */
    @FunctionalInterface
    private interface BatchConsumer {
        void accept(Batch chunk, TensorScope scope);
    }

    /** What one chunk contributes with its predictive probabilities. */
    @FunctionalInterface
    private interface ProbabilityConsumer {
        /** @param probs the softmax of the logits {@code [n, C]}, row-major */
        void accept(Batch chunk, TensorScope scope, double[] probs);
    }

    /** {@link #forEachChunk(String, DataSource, BatchConsumer)} with the softmax of each chunk's logits. */
    private long forEachChunk(String task, DataSource data, ProbabilityConsumer consumer) {
        int classes = model.spec().outputDim();
        return forEachChunk(task, data, (chunk, scope) -> {
            double[] z;
            try (Tensor logits = model.forward(chunk, scope)) {
                z = logits.toDoubleArray();
            }
            consumer.accept(chunk, scope, Loss.softmaxRows(z, classes));
        });
    }

    /**
     * One pass over the data, reported to the options' progress listener as {@code task}, one step
     * per chunk; each chunk is checked against the model and handed over with a scope of its own.
     *
     * @return the number of samples
     */
    private long forEachChunk(String task, DataSource data, BatchConsumer consumer) {
        ModelSpec spec = model.spec();
        if (data.numFeatures() != spec.inputDim()) {
            throw new IllegalArgumentException("trainingData: has " + data.numFeatures() + " features but the model"
                    + " expects " + spec.inputDim());
        }
        long chunks = (data.size() + options.batchSize() - 1) / options.batchSize();
        ProgressListener progress = options.progress();
        return progress.task(task, chunks, () -> {
            long count = 0;
            Iterator<Batch> it = data.batches(options.batchSize());
            while (it.hasNext()) {
                Batch chunk = it.next();
                spec.validate(chunk, "trainingData");
                count += chunk.size();
                try (TensorScope scope = model.backend().newScope()) {
                    consumer.accept(chunk, scope);
                }
                progress.step(1);
            }
            return count;
        });
    }

    /** @return {@code chunk} with every label set to class {@code c} */
    private static Batch labelled(Batch chunk, int c) {
        double[] labels = new double[chunk.size()];
        Arrays.fill(labels, c);
        return new Batch(chunk.features(), labels, 1);
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
        long count = factorPass("EK-FAC eigenvalue refit", data, (chunk, scope, factors, gradients) -> {
            for (int l = 0; l < fitted.size(); l++) {
                if (!selected[l]) {
                    continue;
                }
                if (diag[l] == null) {
                    diag[l] = new double[fitted.get(l).numParameters()];
                }
                try (TensorScope s = scope.newChild()) {
                    EkfacBasis lt = new EkfacBasis(fitted.get(l), model.spec().dtype(), s);
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
        long count = forEachChunk("EK-FAC eigenvalue refit", data, (chunk, scope, probs) -> {
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
                Tensor k = new EkfacBasis(layer, model.spec().dtype(), scope).toEigenbasis(g);
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

    /**
     * The shared symmetric eigendecomposition ({@link DenseLinalg#symmetricEigen}) in EK-FAC's layout.
     *
     * @return {ascending eigenvalues, eigenvectors as columns (row-major)}
     */
    static double[][] eigh(double[] symmetric, int size) {
        DenseLinalg.Eigen eig;
        try {
            eig = DenseLinalg.symmetricEigen(DenseLinalg.unflatten(symmetric, size, size), ASCENDING);
        } catch (IllegalStateException e) {
            throw new InversionException(InversionException.Reason.NOT_CONVERGED,
                    "EK-FAC: the eigendecomposition of a " + size + "x" + size
                    + " Kronecker factor failed (non-finite values?); check the model and data for NaN/Inf");
        }
        double[] vectors = new double[size * size];
        for (int k = 0; k < size; k++) {
            for (int r = 0; r < size; r++) {
                vectors[r * size + k] = eig.vectors()[k][r];
            }
        }
        return new double[][] {eig.values(), vectors};
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

}
