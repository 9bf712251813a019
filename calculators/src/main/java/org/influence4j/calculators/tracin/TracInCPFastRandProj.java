package org.influence4j.calculators.tracin;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.model.Layer;
import org.influence4j.calculators.attribution.Attributions;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * TracInCPFastRandProj (Captum): every sample is mapped to one vector
 * {@code r(z) = ⊕_c √η_c · P_c vec(δ_c(z) a_c(z)ᵀ)} — the last Dense layer's weight gradient at
 * each checkpoint c, projected to at most d entries by a Kronecker-structured map
 * {@code P_c = P_δ ⊗ P_a} computed from the factors alone (see {@link RandProjOptions.Projection}:
 * leading eigenvectors of the factor second moments by default, Captum's seeded Gaussian matrices
 * as an option) — and the score of z on t is {@code ⟨r(t), r(z)⟩}, an estimate of the
 * {@link TracInCPFast} score (unbiased for the Gaussian projection; for the default a projection
 * onto the span the training gradients use, exact when d covers that span). The training set
 * given to the constructor is indexed once (n·D doubles on the Java heap, D ≤ C·d); {@link #topK}
 * on that source is an exact (brute-force, chunked) maximum-inner-product search over the stored
 * vectors, streamed through a bounded top-k. Other training sources are projected on the fly.
 * With {@link RandProjOptions#projectionDim()} = 0, or a layer with at most d weights, nothing is
 * projected and the scores equal TracInCPFast's exactly.
 *
 * <p>Sign contract of {@link TrainingDataAttribution}. Not thread-safe (it mutates the model's
 * parameters during a call and restores them).
 */
public final class TracInCPFastRandProj implements TrainingDataAttribution {

    /**
     * How one checkpoint's factors become entries of a sample's vector: a is multiplied by
     * {@code projA [in, dimA]} and δ by {@code projD [out, dimD]} (null: kept as they are); the
     * entries are their outer product.
     */
    private record CheckpointProjection(double[] projA, int dimA, double[] projD, int dimD) {
        int size() {
            return dimD * dimA;
        }
    }

    private final TwiceDifferentiable model;
    private final TracInCheckpoints checkpoints;
    private final RandProjOptions options;
    private final int in;
    private final int out;
    private final CheckpointProjection[] projections;
    /** Start of checkpoint c's entries in a sample's vector; {@code offsets[C]} = D. */
    private final int[] offsets;
    private final DataSource indexed;
    private final double[] index;

    /**
     * Builds the projections (for {@link RandProjOptions.Projection#FACTOR_PCA} from one pass
     * over {@code train} per checkpoint) and indexes {@code train}.
     *
     * @throws IllegalArgumentException naming a null or empty argument, or a model without Dense layer
     * @throws UnsupportedOperationException if the backend lacks {@link BackendCapability#DENSE_LAYER_FACTORS}
     */
    public TracInCPFastRandProj(TwiceDifferentiable model, TracInCheckpoints checkpoints, DataSource train,
                                RandProjOptions options) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (checkpoints == null) {
            throw new IllegalArgumentException("checkpoints: must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use RandProjOptions.of(projectionDim)");
        }
        Attributions.requireNonEmpty(train, "train");
        if (!model.backend().capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS)) {
            throw new UnsupportedOperationException("backend " + model.backend().name()
                    + " does not provide per-layer gradient factors (DENSE_LAYER_FACTORS)");
        }
        List<Layer.Dense> dense = model.spec().denseLayers();
        Layer.Dense last = dense.isEmpty() ? null : dense.get(dense.size() - 1);
        if (last == null) {
            throw new IllegalArgumentException("model: has no Dense layer for TracInCPFastRandProj");
        }
        if (checkpoints.parametersView(0).length != model.numParameters()) {
            throw new IllegalArgumentException("checkpoints: hold " + checkpoints.parametersView(0).length
                    + " parameters but the model has " + model.numParameters());
        }
        this.model = model;
        this.checkpoints = checkpoints;
        this.options = options;
        this.in = last.inFeatures() + (options.includeBias() ? 1 : 0);
        this.out = last.outFeatures();
        this.projections = projections(train);
        this.offsets = new int[projections.length + 1];
        for (int c = 0; c < projections.length; c++) {
            offsets[c + 1] = Math.addExact(offsets[c], projections[c].size());
        }
        this.indexed = train;
        this.index = represent(train);
    }

    private CheckpointProjection[] projections(DataSource train) {
        int d = options.projectionDim();
        CheckpointProjection[] result = new CheckpointProjection[checkpoints.size()];
        if (d == 0 || (long) out * in <= d) {
            Arrays.fill(result, new CheckpointProjection(null, in, null, out));
            return result;
        }
        switch (options.projection()) {
            case KRONECKER -> {
                Random random = new Random(options.seed());
                int root = Math.max(1, (int) Math.floor(Math.sqrt(d)));
                int dimD = Math.min(out, root);
                int dimA = Math.min(in, root);
                double[] projD = dimD < out ? gaussian(random, out, dimD) : null;
                double[] projA = dimA < in ? gaussian(random, in, dimA) : null;
                Arrays.fill(result, new CheckpointProjection(projA, dimA, projD, dimD));
            }
            case FACTOR_PCA -> {
                double[] original = model.parameters();
                try {
                    for (int c = 0; c < result.length; c++) {
                        model.setParameters(checkpoints.parametersView(c));
                        result[c] = factorPca(train, d);
                    }
                } finally {
                    model.setParameters(original);
                }
            }
            default -> throw new IllegalStateException("unknown projection " + options.projection());
        }
        return result;
    }

    /**
     * The leading eigenvectors of {@code A = Σ a aᵀ} and {@code G = Σ δ δᵀ} over {@code train} at
     * the current parameters, with the split {@code k_δ·k_a ≤ d} that keeps the largest product
     * of captured eigenvalue shares.
     */
    private CheckpointProjection factorPca(DataSource train, int d) {
        double[] covA = new double[in * in];
        double[] covD = new double[out * out];
        try (TensorScope scope = model.backend().newScope()) {
            Iterator<Batch> it = train.batches(options.batchSize());
            while (it.hasNext()) {
                Batch batch = it.next();
                try (TensorScope work = scope.newChild()) {
                    List<Tensor> f = TracInCPFast.lastLayerFactors(model, batch, work);
                    accumulateGram(work.fromArray(augment(f.get(0).toDoubleArray(), batch.size()), dtype(),
                            batch.size(), in), covA);
                    accumulateGram(f.get(1), covD);
                }
            }
        }
        DenseLinalg.Eigen eigA = DenseLinalg.symmetricEigen(DenseLinalg.unflatten(covA, in, in), DenseLinalg.DESCENDING);
        DenseLinalg.Eigen eigD = DenseLinalg.symmetricEigen(DenseLinalg.unflatten(covD, out, out), DenseLinalg.DESCENDING);
        double[] shareA = cumulativeShares(eigA.values());
        double[] shareD = cumulativeShares(eigD.values());
        int bestD = 1;
        double best = -1;
        for (int kd = 1; kd <= Math.min(out, d); kd++) {
            int ka = Math.min(in, d / kd);
            double captured = shareD[kd] * shareA[ka];
            if (captured > best + 1e-12) {
                best = captured;
                bestD = kd;
            }
        }
        int bestA = Math.min(in, d / bestD);
        return new CheckpointProjection(columns(eigA.vectors(), in, bestA), bestA,
                columns(eigD.vectors(), out, bestD), bestD);
    }

    private static void accumulateGram(Tensor rows, double[] target) {
        try (Tensor t = rows.transpose(); Tensor gram = t.matmul(rows)) {
            double[] g = gram.toDoubleArray();
            for (int q = 0; q < g.length; q++) {
                target[q] += g[q];
            }
        }
    }

    /** @return {@code s[k]} = share of the first k (non-negative parts of the) eigenvalues, s[0] = 0 */
    private static double[] cumulativeShares(double[] descending) {
        double[] s = new double[descending.length + 1];
        for (int k = 0; k < descending.length; k++) {
            s[k + 1] = s[k] + Math.max(0, descending[k]);
        }
        double total = s[descending.length];
        for (int k = 0; k <= descending.length; k++) {
            s[k] = total > 0 ? s[k] / total : (double) k / descending.length;
        }
        return s;
    }

    /** @return row-major {@code [rows, k]} whose column j is {@code vectors[j]} */
    private static double[] columns(double[][] vectors, int rows, int k) {
        double[] m = new double[rows * k];
        for (int j = 0; j < k; j++) {
            for (int r = 0; r < rows; r++) {
                m[r * k + j] = vectors[j][r];
            }
        }
        return m;
    }

    /** @return row-major {@code [rows, cols]} with entries N(0, 1/cols) */
    private static double[] gaussian(Random random, int rows, int cols) {
        double[] r = new double[rows * cols];
        double s = 1.0 / Math.sqrt(cols);
        for (int i = 0; i < r.length; i++) {
            r[i] = random.nextGaussian() * s;
        }
        return r;
    }

    /** @return D, the length of a sample's vector (the sum of the checkpoints' entries) */
    public int dimension() {
        return offsets[offsets.length - 1];
    }

    /** @return the options */
    public RandProjOptions options() {
        return options;
    }

    private DType dtype() {
        return model.spec().dtype();
    }

    /**
     * The projected vectors of a batch.
     *
     * @return row-major {@code [b, D]} on the host
     * @throws IllegalArgumentException naming {@code batch} if it is empty or does not fit
     */
    public double[] representations(Batch batch) {
        Attributions.requireNonEmpty(batch, "batch");
        model.spec().validate(batch, "batch");
        int b = batch.size();
        int total = dimension();
        double[] rep = new double[Math.multiplyExact(b, total)];
        double[] original = model.parameters();
        try (TensorScope scope = model.backend().newScope()) {
            for (int c = 0; c < checkpoints.size(); c++) {
                model.setParameters(checkpoints.parametersView(c));
                CheckpointProjection p = projections[c];
                double[] a;
                double[] delta;
                try (TensorScope work = scope.newChild()) {
                    List<Tensor> f = TracInCPFast.lastLayerFactors(model, batch, work);
                    a = project(augment(f.get(0).toDoubleArray(), b), b, in, p.projA(), p.dimA(), work);
                    delta = project(f.get(1).toDoubleArray(), b, out, p.projD(), p.dimD(), work);
                }
                double w = Math.sqrt(checkpoints.learningRate(c));
                for (int i = 0; i < b; i++) {
                    int base = i * total + offsets[c];
                    for (int u = 0; u < p.dimD(); u++) {
                        double du = w * delta[i * p.dimD() + u];
                        for (int v = 0; v < p.dimA(); v++) {
                            rep[base + u * p.dimA() + v] = du * a[i * p.dimA() + v];
                        }
                    }
                }
            }
        } finally {
            model.setParameters(original);
        }
        return rep;
    }

    private double[] augment(double[] a, int b) {
        if (!options.includeBias()) {
            return a;
        }
        int raw = in - 1;
        double[] outArr = new double[b * in];
        for (int i = 0; i < b; i++) {
            System.arraycopy(a, i * raw, outArr, i * in, raw);
            outArr[i * in + raw] = 1.0;
        }
        return outArr;
    }

    private double[] project(double[] x, int b, int cols, double[] proj, int dim, TensorScope scope) {
        if (proj == null) {
            return x;
        }
        try (Tensor xt = scope.fromArray(x, dtype(), b, cols);
             Tensor r = scope.fromArray(proj, dtype(), cols, dim);
             Tensor y = xt.matmul(r)) {
            return y.toDoubleArray();
        }
    }

    private double[] represent(DataSource source) {
        int total = dimension();
        double[] all = new double[Math.multiplyExact(Math.toIntExact(source.size()), total)];
        int offset = 0;
        Iterator<Batch> it = source.batches(options.batchSize());
        while (it.hasNext()) {
            double[] r = representations(it.next());
            System.arraycopy(r, 0, all, offset, r.length);
            offset += r.length;
        }
        return all;
    }

    @Override
    public Tensor influences(Batch test, Batch train, TensorScope scope) {
        Attributions.requireNonEmpty(test, "test");
        Attributions.requireNonEmpty(train, "train");
        double[] rt = representations(test);
        double[] rr = representations(train);
        try (TensorScope work = scope.newChild()) {
            Tensor t = work.fromArray(rt, dtype(), test.size(), dimension());
            Tensor r = work.fromArray(rr, dtype(), train.size(), dimension());
            try (Tensor tr = r.transpose()) {
                return t.matmul(tr).moveTo(scope);
            }
        }
    }

    @Override
    public double[] selfInfluence(DataSource train) {
        Attributions.requireNonEmpty(train, "train");
        double[] reps = train == indexed ? index : represent(train);
        int total = dimension();
        double[] self = new double[Math.toIntExact(train.size())];
        for (int i = 0; i < self.length; i++) {
            double s = 0;
            for (int j = 0; j < total; j++) {
                double v = reps[i * total + j];
                s += v * v;
            }
            self[i] = s;
        }
        return self;
    }

    /** Exact search over the stored vectors when {@code train} is the indexed source. */
    @Override
    public TopK topK(Batch test, DataSource train, int k, TopKOrder order) {
        Attributions.requireNonEmpty(test, "test");
        Attributions.requireNonEmpty(train, "train");
        Attributions.requireK(k, train.size());
        double[] rt = representations(test);
        int total = dimension();
        try (TensorScope scope = model.backend().newScope()) {
            Tensor t = scope.fromArray(rt, dtype(), test.size(), total);
            return Attributions.streamTopK(test.size(), train, k, order, options.batchSize(), scope,
                    (chunk, offset, work) -> {
                        double[] rows = train == indexed
                                ? Arrays.copyOfRange(index, Math.toIntExact(offset * total),
                                        Math.toIntExact((offset + chunk.size()) * total))
                                : representations(chunk);
                        try (Tensor r = work.fromArray(rows, dtype(), chunk.size(), total);
                             Tensor rtT = r.transpose()) {
                            return t.matmul(rtT).moveTo(work);
                        }
                    });
        }
    }

    @Override
    public String toString() {
        return "TracInCPFastRandProj[" + checkpoints.size() + " checkpoints, " + options.projection()
                + ", D=" + dimension() + "]";
    }
}
