package org.influence4j.calculators.tracin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.influence4j.api.GradientBlock;
import org.influence4j.api.LayerGradientFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * TracInCP (Pruthi et al. 2020) with Captum's semantics: the score of training point z on test
 * point t is {@code Σ_c η_c ⟨∇θℓ(t; θ_c), ∇θℓ(z; θ_c)⟩} over the checkpoints, with per-sample
 * gradients from one batched pass per chunk, optionally restricted to named parameters
 * ({@link TracInOptions#layers()}, Captum's {@code layers}). Self-influence is
 * {@code Σ_c η_c ‖∇θℓ(z; θ_c)‖²}; {@link #topK} streams training chunks through a bounded
 * selection and never builds the m×n matrix (the m test gradients of every checkpoint are kept).
 *
 * <p><b>Dense layers are never formed.</b> The per-sample gradient of a Dense layer on vectors
 * stays the outer product {@code δ_i ãᵢᵀ} of the output gradient and the input (with a 1 for the
 * bias), so its part of {@code ⟨∇ℓ_i, ∇ℓ_j⟩} is
 * {@code (δ_i·δ_j)(a_i·a_j + 1)}: two GEMMs of inner size {@code out} and {@code in} instead of one
 * of inner size {@code out·in}, and its part of self-influence {@code ‖δ_i‖²(‖a_i‖² + 1)}. A format-1
 * MLP is all such layers ({@link TwiceDifferentiable#layerGradientFactors}); a layer graph gives its
 * Dense layers so, its Embedding tables as the rows the samples look up
 * ({@link EmbeddingRowProducts}: at most T of the V rows per sample, multiplied on the host in double
 * precision) and the convolutions between them as gradient columns
 * ({@link TwiceDifferentiable#perSampleGradientBlocks}: on the Fashion-MNIST CNN, 3,424 of its 11,978
 * parameters). Named layers keep these forms: a layer graph computes the blocks of the named
 * parameters only ({@link TwiceDifferentiable#perSampleGradientBlocks(Batch, TensorScope, java.util.Set)}),
 * its backward pass stopping at the earliest named layer. The result is the same sum reassociated (float
 * rounding only). Other models (TorchScript; format-1 models with named layers) use the per-sample
 * gradients.
 *
 * <p><b>Memory.</b> A batch's per-sample gradient columns (what a layer graph gives as columns:
 * convolutions and normalisations; all of θ for the other models with named layers) are held at
 * once, and for
 * {@link #influences} and {@link #topK} those of the test points at every checkpoint. The batch size
 * is lowered so that a batch's columns take at most {@link #BATCH_COLUMN_BYTES}, and the test points
 * are taken in slices whose columns at all checkpoints take at most {@link #TEST_COLUMN_BYTES} (each
 * slice computes the training gradients again).
 *
 * <p>The model's parameters are switched to each checkpoint during a call and restored afterwards.
 * Not thread-safe (it mutates the model).
 */
public final class TracInCP extends CheckpointMethod {

    /** At most this many bytes of per-sample gradient columns per training batch ({@link #bounded}). */
    static final long BATCH_COLUMN_BYTES = 256L << 20;

    /**
     * At most this many bytes of per-sample gradient columns of the test points held at all
     * checkpoints ({@link #testSlice}): more than a batch's, since each further slice of test points
     * computes the training gradients again.
     */
    static final long TEST_COLUMN_BYTES = 1L << 30;

    private final TracInOptions options;
    private final int[][] ranges;
    /** {@link #columnBytes}. */
    private final long columnBytes;
    /** {@link #BATCH_COLUMN_BYTES} and {@link #TEST_COLUMN_BYTES}, or a test's. */
    private final long batchBudget;
    private final long testBudget;
    /**
     * How the pieces of a representation are held; null until the first batch (threads computing
     * checkpoints at once may each decide it: they decide the same).
     */
    private volatile List<Form> forms;

    /**
     * @param model       the model (any parameters; they are restored after every call)
     * @param checkpoints the loaded checkpoints with learning rates
     * @param options     layer restriction and batch size (lowered where a batch's gradient columns
     *                    would take more than {@link #BATCH_COLUMN_BYTES}; {@link #options()} says so)
     * @throws IllegalArgumentException naming {@code options} for an unknown or repeated layer name
     */
    public TracInCP(TwiceDifferentiable model, TracInCheckpoints checkpoints, TracInOptions options) {
        this(model, checkpoints, options, BATCH_COLUMN_BYTES, TEST_COLUMN_BYTES);
    }

    /**
     * @param batchBudget at most this many bytes of per-sample gradient columns per training batch
     * @param testBudget  at most this many of the test points' at all checkpoints (tests lower both)
     */
    TracInCP(TwiceDifferentiable model, TracInCheckpoints checkpoints, TracInOptions options, long batchBudget,
             long testBudget) {
        this(model, checkpoints, options, batchBudget, testBudget, Restriction.of(model, options));
    }

    private TracInCP(TwiceDifferentiable model, TracInCheckpoints checkpoints, TracInOptions options,
                     long batchBudget, long testBudget, Restriction restriction) {
        super(model, checkpoints, bounded(options, restriction.columnBytes(), batchBudget));
        this.options = options.withBatchSize(batchSize);
        this.ranges = restriction.ranges();
        this.columnBytes = restriction.columnBytes();
        this.batchBudget = batchBudget;
        this.testBudget = testBudget;
    }

    /**
     * The named layers' parameter ranges (null without names) and {@link #columnBytes}, computed once
     * before the superclass is made (which needs the bounded batch size); empty for a null model or
     * options, which the superclass names.
     */
    private record Restriction(int[][] ranges, long columnBytes) {
        static Restriction of(TwiceDifferentiable model, TracInOptions options) {
            if (model == null || options == null) {
                return new Restriction(null, 0);
            }
            return new Restriction(TracInCP.ranges(model, options.layers()), TracInCP.columnBytes(model, options));
        }
    }

    /**
     * {@code options} with the batch size lowered, where needed, so that one batch's per-sample
     * gradient columns ({@link #columnBytes}) take at most {@code budget} bytes. An embedding table of
     * 30,000 × 64 as columns had 7.7 MB of float32 gradient per sample: 256 samples took 12 GB of peak
     * RSS and 31-40 s for the self-influence of 1,024 samples at two checkpoints, 32 samples 2 GB and
     * 18 s (as rows, {@link EmbeddingRowProducts}: 0.5 GB and 0.14-0.3 s).
     */
    private static TracInOptions bounded(TracInOptions options, long perSample, long budget) {
        if (options == null || perSample == 0) {
            return options; // a null one the superclass names
        }
        long fits = Math.max(1, budget / perSample);
        return fits >= options.batchSize() ? options : options.withBatchSize((int) fits);
    }

    /**
     * @return the bytes of one sample's per-sample gradient columns
     *     ({@link TwiceDifferentiable#perSampleGradientColumns}): of the named layers' blocks (all p
     *     for models that form the gradients whole, then slice them), or for a layer graph what it
     *     does not give as Dense factors or Embedding rows; else 0 (Dense factors; TorchScript, whose
     *     size is not known ahead). The names are valid ({@link #ranges} checked them).
     */
    private static long columnBytes(TwiceDifferentiable model, TracInOptions options) {
        long columns = !options.layers().isEmpty() ? model.perSampleGradientColumns(Set.copyOf(options.layers()))
                : model.spec().isGraph() ? model.perSampleGradientColumns() : 0;
        return columns * model.spec().dtype().bytes();
    }

    /**
     * Test points at once for {@link #influences} and {@link #topK}: their gradient columns at every
     * checkpoint (which top-k keeps while it streams the training data) within {@link #TEST_COLUMN_BYTES}.
     */
    @Override
    int testSlice(int m) {
        if (columnBytes == 0) {
            return m;
        }
        long fits = testBudget / (columnBytes * Math.max(1, checkpoints.size()));
        return (int) Math.max(1, Math.min(m, fits));
    }

    /**
     * @return the parameter ranges {@code [from, to)} of the named layers in the order named, or null
     *     without names
     * @throws IllegalArgumentException naming {@code options} for an unknown or repeated layer name
     */
    private static int[][] ranges(TwiceDifferentiable model, List<String> layers) {
        if (layers.isEmpty()) {
            return null;
        }
        Map<String, ParameterInfo> byName = new LinkedHashMap<>();
        for (ParameterInfo info : model.parameterLayout()) {
            byName.put(info.name(), info);
        }
        List<int[]> out = new ArrayList<>();
        for (String name : layers) {
            ParameterInfo info = byName.get(name);
            if (info == null) {
                throw new IllegalArgumentException("options: unknown layer parameter '" + name + "'; the model has "
                        + byName.keySet());
            }
            for (int[] r : out) {
                if (r[0] == info.offset()) {
                    throw new IllegalArgumentException("options: layer parameter '" + name + "' is named twice");
                }
            }
            out.add(new int[] {info.offset(), info.offset() + info.size()});
        }
        return out.toArray(new int[0][]);
    }

    /** @return the options */
    public TracInOptions options() {
        return options;
    }

    /** @return q, the number of parameters the gradients are restricted to (p without restriction) */
    public int gradientDimension() {
        if (ranges == null) {
            return model.numParameters();
        }
        int q = 0;
        for (int[] r : ranges) {
            q += r[1] - r[0];
        }
        return q;
    }

    /**
     * Per-sample gradients at the model's current parameters, restricted to the configured layers.
     *
     * @return {@code [n, q]} owned by {@code scope}
     */
    public Tensor gradients(Batch batch, TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            Tensor g = model.perSampleGradients(batch, work);
            if (ranges == null) {
                return g.moveTo(scope);
            }
            Tensor gt = g.transpose();
            Tensor acc = null;
            for (int[] r : ranges) {
                Tensor part = gt.rows(r[0], r[1]);
                acc = acc == null ? part : acc.concat(part);
            }
            return acc.transpose().moveTo(scope);
        }
    }

    /**
     * {@inheritDoc} A batch whose gradient columns exceed the batch budget (a slice of test points) is
     * represented batch by batch and the pieces joined, so that the pass itself stays within it.
     */
    @Override
    List<Tensor> represent(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        int n = batch.size();
        if (n <= batchSize || n * columnBytes <= batchBudget) {
            return representBatch(model, batch, scope);
        }
        return joinedInBatches(batch, piece -> representBatch(model, piece, scope));
    }

    private List<Tensor> representBatch(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        if (ranges == null && forms == null && !model.spec().isGraph()) {
            List<Tensor> factors = denseFactors(model, batch, scope);
            if (factors != null) {
                return factors;
            }
        }
        if (forms == null || !forms.get(0).fromLayerFactors()) {
            return blocks(model, batch, scope);
        }
        return denseFactors(model, batch, scope);
    }

    /**
     * How one piece of a representation is held ({@link GradientBlock.Kind}): gradient columns (one
     * tensor); a Dense layer's inputs and output gradients (two tensors), with or without its bias; or
     * an Embedding's ids {@code [n, T]} and rows' gradients {@code [n, T·d]} (two tensors).
     */
    private record Form(GradientBlock.Kind kind, boolean bias, boolean fromLayerFactors) {
    }

    /**
     * @return the model's {@link TwiceDifferentiable#perSampleGradientBlocks} (of the named layers,
     *     when named), deciding {@link #forms} on the first call
     */
    private List<Tensor> blocks(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        List<GradientBlock> blocks = ranges == null ? model.perSampleGradientBlocks(batch, scope)
                : model.perSampleGradientBlocks(batch, scope, Set.copyOf(options.layers()));
        if (forms == null) {
            forms = blocks.stream().map(b -> new Form(b.kind(), b.bias(), false)).toList();
        }
        List<Tensor> out = new ArrayList<>();
        for (GradientBlock b : blocks) {
            switch (b.kind()) {
                case COLUMNS -> out.add(b.gradients());
                case DENSE_FACTORS -> {
                    out.add(b.inputs());
                    out.add(b.outputGradients());
                }
                case EMBEDDING_ROWS -> {
                    long[] s = b.outputGradients().shape();
                    out.add(EmbeddingRowProducts.idTensor(b.ids(), batch.size(), scope));
                    out.add(b.outputGradients().reshape(s[0], s[1] * s[2]));
                }
                default -> throw new IllegalStateException("unknown block kind " + b.kind());
            }
        }
        return out;
    }

    /**
     * @return per Dense layer its inputs a {@code [n, in]} and output gradients δ {@code [n, out]}, in
     *     layer order, or null (on the first call, leaving {@link #forms} undecided) when the model's
     *     gradients are not all Dense-layer outer products
     */
    private List<Tensor> denseFactors(TwiceDifferentiable model, Batch batch, TensorScope scope) {
        List<LayerGradientFactors> layers;
        try {
            layers = model.layerGradientFactors(batch, scope);
        } catch (UnsupportedOperationException e) {
            return null;
        }
        if (forms == null) {
            long covered = 0;
            boolean dense = true;
            for (LayerGradientFactors f : layers) {
                dense &= f.kind() == LayerGradientFactors.Kind.DENSE && f.positions() == 1;
                covered += f.numParameters();
            }
            if (!(dense && covered == model.numParameters())) {
                for (LayerGradientFactors f : layers) {
                    if (f.inputs() != null) { // an embedding's factors are ids
                        f.inputs().close();
                    }
                    f.outputGradients().close();
                }
                return null;
            }
            forms = layers.stream().map(f -> new Form(GradientBlock.Kind.DENSE_FACTORS, f.bias(), true)).toList();
        }
        List<Tensor> out = new ArrayList<>(2 * layers.size());
        for (LayerGradientFactors f : layers) {
            out.add(f.inputs());
            out.add(f.outputGradients());
        }
        return out;
    }

    @Override
    Tensor pair(List<Tensor> test, List<Tensor> train, TensorScope scope) {
        if (test.size() == 1) {
            return DenseLinalg.timesTransposed(test.get(0), train.get(0));
        }
        // Σ over the pieces: columns G_test G_trainᵀ; a Dense layer (Δ_test Δ_trainᵀ) ⊙ (A_test A_trainᵀ [+ 1]);
        // an Embedding the products of the rows both samples look up
        Tensor sum = null;
        int j = 0;
        for (Form form : forms) {
            switch (form.kind()) {
                case COLUMNS -> sum = accumulate(sum, DenseLinalg.timesTransposed(test.get(j), train.get(j)));
                case DENSE_FACTORS -> {
                    Tensor deltas = DenseLinalg.timesTransposed(test.get(j + 1), train.get(j + 1));
                    Tensor inputs = DenseLinalg.timesTransposed(test.get(j), train.get(j));
                    sum = accumulate(sum, layerScore(deltas, inputs, form.bias()));
                }
                case EMBEDDING_ROWS -> sum = accumulate(sum, EmbeddingRowProducts.pair(test.get(j), test.get(j + 1),
                        train.get(j), train.get(j + 1), scope));
                default -> throw new IllegalStateException("unknown block kind " + form.kind());
            }
            j += form.kind() == GradientBlock.Kind.COLUMNS ? 1 : 2;
        }
        return sum;
    }

    @Override
    Tensor self(List<Tensor> rep, TensorScope scope) {
        if (rep.size() == 1) {
            return rep.get(0).rowDots(rep.get(0));
        }
        Tensor sum = null;
        int j = 0;
        for (Form form : forms) {
            Tensor first = rep.get(j);
            switch (form.kind()) {
                case COLUMNS -> sum = accumulate(sum, first.rowDots(first));
                case DENSE_FACTORS -> {
                    Tensor d = rep.get(j + 1);
                    sum = accumulate(sum, layerScore(d.rowDots(d), first.rowDots(first), form.bias()));
                }
                case EMBEDDING_ROWS -> sum = accumulate(sum, EmbeddingRowProducts.self(first, rep.get(j + 1), scope));
                default -> throw new IllegalStateException("unknown block kind " + form.kind());
            }
            j += form.kind() == GradientBlock.Kind.COLUMNS ? 1 : 2;
        }
        return sum;
    }

    /** @return {@code deltas ⊙ inputs}, plus {@code deltas} with a bias (the input's extra 1); closes both */
    private static Tensor layerScore(Tensor deltas, Tensor inputs, boolean bias) {
        try (deltas; inputs) {
            Tensor score = deltas.mul(inputs);
            if (!bias) {
                return score;
            }
            try (score) {
                return score.add(deltas);
            }
        }
    }

    /** @return {@code sum + term} (closing both), or {@code term} when {@code sum} is null */
    private static Tensor accumulate(Tensor sum, Tensor term) {
        if (sum == null) {
            return term;
        }
        Tensor next = sum.add(term);
        sum.close();
        term.close();
        return next;
    }

    @Override
    public String toString() {
        return "TracInCP[" + checkpoints.size() + " checkpoints, layers=" + options.layers() + "]";
    }
}
