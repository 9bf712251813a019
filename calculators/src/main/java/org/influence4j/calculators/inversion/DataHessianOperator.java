package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.model.ModelSpec;

/**
 * The regularized Hessian of the <em>mean</em> training loss, {@code A = ∇²θ L(θ) + λI} with
 * {@code L = (1/n) Σ_i ℓ_i}, computed batch by batch from a {@link DataSource}:
 * <pre>  A·v = Σ_b (n_b / n) · ∇²θ L_b · v + λ v</pre>
 * where {@code L_b} is the mean loss of batch b (n_b samples) as returned by
 * {@link TwiceDifferentiable#hvpBlock}. This is the mean-loss convention of pyDVL; Captum's summed
 * loss corresponds to {@code n·A}.
 *
 * <p><b>Curvature.</b> With {@link Curvature#GAUSS_NEWTON} the operator is {@code G + λI} instead,
 * G the Gauss-Newton matrix of the mean loss ({@link TwiceDifferentiable#gaussNewtonBlock}),
 * positive semi-definite: the solvers converge where the Hessian has negative curvature.
 *
 * <p><b>Kept passes.</b> The operator keeps, for as many of the first batches as fit in
 * {@link #keptStateBytes()}, what the model's products recompute on every pass
 * ({@link TwiceDifferentiable#keepCurvature}: a layer graph's recorded forward pass, and for the
 * Hessian its backward pass), so that each later product of those batches sweeps the record only.
 * The numbers are the same as without it. The state is made on the first pass that needs it, freed
 * by {@link #releaseKeptState()} and {@link #close()}, and made again when the model's parameters
 * have changed since. Models that keep nothing (the dense MLPs, nd4j) cost one call to find out.
 *
 * <p>Every {@link #apply} and {@link #toMatrix} call is one pass over the data and increments
 * {@link #passes()}. The batches of the first complete pass are checked against the model's
 * {@link ModelSpec} (feature count, label kind, finiteness); later passes skip the check.
 *
 * <p>Thread safety: safe to use from several threads only if the model is
 * ({@link TwiceDifferentiable#isThreadSafe()}); the counters are atomic.
 */
public final class DataHessianOperator implements HessianOperator, AutoCloseable {

    /** The default of {@link #keptStateBytes()}: 256 MiB. */
    public static final long DEFAULT_KEPT_STATE_BYTES = 256L << 20;

    private final TwiceDifferentiable model;
    private final DataSource data;
    private final double regularization;
    private final Curvature curvature;
    private final int batchSize;
    private final int dimension;
    private final DType dtype;
    private final long numSamples;
    private final AtomicLong passes = new AtomicLong();
    private volatile boolean validated;
    private final long keptStateBytes;
    /** The kept state of the first batches, in pass order. */
    private final List<Kept> kept = new ArrayList<>();
    /** Whether the next batch's state did not fit (or the model keeps nothing): no more are kept. */
    private boolean keptFull;
    /** The parameters the kept state was made at. */
    private double[] keptParameters;

    /**
     * @param model          the model at the parameters θ whose Hessian is wanted
     * @param data           the training data the mean loss runs over (at least one sample)
     * @param regularization λ ≥ 0, added on the diagonal
     * @param batchSize      samples per data chunk in each pass, positive
     * @throws IllegalArgumentException naming the argument when one is null or out of range, or
     *     when the data's feature count does not match the model
     */
    public DataHessianOperator(TwiceDifferentiable model, DataSource data, double regularization, int batchSize) {
        this(model, data, regularization, batchSize, Curvature.HESSIAN);
    }

    /**
     * @param model          the model at the parameters θ whose curvature is wanted
     * @param data           the training data the mean loss runs over (at least one sample)
     * @param regularization λ ≥ 0, added on the diagonal
     * @param batchSize      samples per data chunk in each pass, positive
     * @param curvature      the Hessian or the Gauss-Newton matrix
     * @throws IllegalArgumentException naming the argument when one is null or out of range, or
     *     when the data's feature count does not match the model, or the model lacks Gauss-Newton
     *     products
     */
    public DataHessianOperator(TwiceDifferentiable model, DataSource data, double regularization, int batchSize,
                               Curvature curvature) {
        this(model, data, regularization, batchSize, curvature, DEFAULT_KEPT_STATE_BYTES);
    }

    /**
     * @param model          the model at the parameters θ whose curvature is wanted
     * @param data           the training data the mean loss runs over (at least one sample)
     * @param regularization λ ≥ 0, added on the diagonal
     * @param batchSize      samples per data chunk in each pass, positive
     * @param curvature      the Hessian or the Gauss-Newton matrix
     * @param keptStateBytes the most native memory the kept passes ({@link TwiceDifferentiable#keepCurvature})
     *                       may take (≥ 0; 0 keeps none)
     * @throws IllegalArgumentException naming the argument when one is null or out of range, or
     *     when the data's feature count does not match the model, or the model lacks Gauss-Newton
     *     products
     */
    public DataHessianOperator(TwiceDifferentiable model, DataSource data, double regularization, int batchSize,
                               Curvature curvature, long keptStateBytes) {
        this.keptStateBytes = requireKeptStateBytes(keptStateBytes);
        if (curvature == null) {
            throw new IllegalArgumentException("curvature: must not be null; use hessian or gauss-newton");
        }
        if (curvature == Curvature.GAUSS_NEWTON && model != null
                && !model.backend().capabilities().contains(BackendCapability.GAUSS_NEWTON)) {
            throw new IllegalArgumentException("curvature: gauss-newton needs a backend with Gauss-Newton products;"
                    + " backend " + model.backend().name() + " has none; use --curvature hessian or another backend");
        }
        if (curvature == Curvature.GAUSS_NEWTON && model != null && !model.spec().isGraph()) {
            throw new IllegalArgumentException("curvature: gauss-newton is computed for layer-graph models (format 2);"
                    + " write the model spec with \"format\": 2 or use --curvature hessian");
        }
        this.curvature = curvature;
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (data == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        if (!(regularization >= 0) || Double.isInfinite(regularization)) {
            throw new IllegalArgumentException("hessianRegularization: must be >= 0 and finite, got " + regularization
                    + "; use 0 for none, or a small positive value (e.g. 0.01) to make H + λI positive definite");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize: must be > 0, got " + batchSize);
        }
        ModelSpec spec = model.spec();
        if (data.size() <= 0) {
            throw new IllegalArgumentException("trainingData: the data source is empty; the Hessian needs at least"
                    + " one sample");
        }
        if (data.numFeatures() != spec.inputDim()) {
            throw new IllegalArgumentException("trainingData: x has " + data.numFeatures()
                    + " features per sample but the model spec expects inputDim=" + spec.inputDim());
        }
        this.model = model;
        this.data = data;
        this.regularization = regularization;
        this.batchSize = batchSize;
        this.dimension = model.numParameters();
        this.dtype = spec.dtype();
        this.numSamples = data.size();
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public double regularization() {
        return regularization;
    }

    @Override
    public TwiceDifferentiable model() {
        return model;
    }

    @Override
    public DataSource data() {
        return data;
    }

    /**
     * @return {@code bytes}, a bound on the kept passes' native memory
     * @throws IllegalArgumentException naming {@code keptStateBytes} if it is negative
     */
    public static long requireKeptStateBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("keptStateBytes: must be >= 0, got " + bytes
                    + "; use 0 to keep no passes");
        }
        return bytes;
    }

    /** @return the most native memory the kept passes may take, in bytes */
    public long keptStateBytes() {
        return keptStateBytes;
    }

    /** @return the estimated native memory the kept passes take now, in bytes */
    public synchronized long keptBytes() {
        return kept.stream().mapToLong(k -> k.state().keptBytes()).sum();
    }

    /** @return how many of the first batches have their passes kept now */
    public synchronized int keptBatches() {
        return kept.size();
    }

    /**
     * Frees the kept passes (a later pass keeps them again), for callers done with the operator for a
     * while (a solver after its fit).
     */
    public synchronized void releaseKeptState() {
        kept.forEach(k -> k.state().close());
        kept.clear();
        keptFull = false;
        keptParameters = null;
    }

    /** {@link #releaseKeptState()}; the operator stays usable. */
    @Override
    public void close() {
        releaseKeptState();
    }

    /** @return the number of samples per data chunk */
    public int batchSize() {
        return batchSize;
    }

    /** @return whether a complete pass has already checked every batch against the model spec */
    public boolean isValidated() {
        return validated;
    }

    /**
     * Reads the data once and checks every batch against the model spec, without any model
     * computation (a cheap way to fail early). Does nothing if a pass has already done it; does not
     * count as a pass.
     *
     * @throws IllegalArgumentException naming {@code trainingData} and the first problem found
     */
    public void validateData() {
        if (validated) {
            return;
        }
        long total = 0;
        Iterator<Batch> it = data.batches(batchSize);
        while (it.hasNext()) {
            Batch batch = it.next();
            model.spec().validate(batch, "trainingData");
            total += batch.size();
        }
        checkTotal(total);
        validated = true;
    }

    /**
     * {@inheritDoc}
     *
     * @param vs a vector {@code [p]} or a block {@code [k, p]}
     * @throws IllegalArgumentException if the shape does not end in p
     */
    @Override
    public Tensor apply(Tensor vs, TensorScope scope) {
        boolean vector = requireVectorOrBlock(vs, dimension);
        try (TensorScope work = scope.newChild()) {
            Tensor acc = accumulate(work, (batch, index) -> curvatureTimes(batch, index, vs, vector, work));
            Tensor result = acc;
            if (regularization != 0) {
                result = acc.axpy(regularization, vs);
                acc.close();
            }
            return result.moveTo(scope);
        }
    }

    /**
     * @return whether {@code vs} is a vector {@code [p]} (else it is a block {@code [k, p]}, k &gt; 0)
     * @throws IllegalArgumentException naming {@code vs} if it is neither
     */
    static boolean requireVectorOrBlock(Tensor vs, int p) {
        long[] shape = vs.shape();
        boolean vector = shape.length == 1 && shape[0] == p;
        if (!vector && !(shape.length == 2 && shape[1] == p && shape[0] > 0)) {
            throw new IllegalArgumentException("vs: shape " + Arrays.toString(shape) + " is not [" + p + "] or [k, "
                    + p + "]; the operator acts on vectors of the " + p + " model parameters");
        }
        return vector;
    }

    /**
     * {@inheritDoc} Computed as {@code Σ_b (n_b/n)·hessian(b) + λI}; needs {@code p²} values of memory.
     */
    @Override
    public Tensor toMatrix(TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            Tensor acc = curvature == Curvature.HESSIAN ? accumulate(work, (batch, index) -> model.hessian(batch, work))
                    : gaussNewtonMatrix(work);
            Tensor result = acc;
            if (regularization != 0) {
                try (Tensor eye = work.eye(dtype, dimension)) {
                    result = acc.axpy(regularization, eye);
                }
                acc.close();
            }
            return result.moveTo(scope);
        }
    }

    /** @return the curvature this operator applies */
    public Curvature curvature() {
        return curvature;
    }

    private Tensor curvatureTimes(Batch batch, int index, Tensor vs, boolean vector, TensorScope work) {
        KeptCurvature state = keptState(batch, index);
        if (state == null && curvature == Curvature.HESSIAN && vector) {
            return model.hvp(batch, vs, work);
        }
        if (!vector) {
            return blockTimes(state, batch, vs, work);
        }
        try (Tensor row = vs.reshape(1, dimension); Tensor g = blockTimes(state, batch, row, work)) {
            return g.reshape(dimension);
        }
    }

    /** The curvature of {@code batch} times the rows of {@code vs}, from its kept state where there is one. */
    private Tensor blockTimes(KeptCurvature state, Batch batch, Tensor vs, TensorScope work) {
        if (state != null) {
            return state.times(vs, work);
        }
        return model.curvatureBlock(batch, curvature, vs, work);
    }

    /**
     * @return the kept state of the pass's batch {@code index}: kept before, or kept now where it is
     *     the next batch and fits in the budget; else null
     * @throws IllegalStateException naming {@code trainingData} if the batch differs in size from the
     *     one kept at that index (the data source changed between passes)
     */
    private synchronized KeptCurvature keptState(Batch batch, int index) {
        if (keptStateBytes == 0) {
            return null;
        }
        if (index == 0 && !kept.isEmpty() && !Arrays.equals(keptParameters, model.parameters())) {
            releaseKeptState();
        }
        if (index < kept.size()) {
            Kept k = kept.get(index);
            if (k.samples() != batch.size()) {
                throw new IllegalStateException("trainingData: batch " + index + " holds " + batch.size()
                        + " samples but held " + k.samples() + " when its passes were kept; a data"
                        + " source must return the same batches on every pass");
            }
            return k.state();
        }
        if (index > kept.size() || keptFull) {
            return null;
        }
        KeptCurvature state = model.keepCurvature(batch, curvature);
        long bytes = state.keptBytes();
        if (bytes == 0 || bytes > keptStateBytes - keptBytes()) {
            state.close();
            keptFull = true;
            return null;
        }
        if (kept.isEmpty()) {
            keptParameters = model.parameters();
        }
        kept.add(new Kept(state, batch.size()));
        return state;
    }

    /** A batch's kept state and its number of samples (checked on later passes). */
    private record Kept(KeptCurvature state, int samples) {
    }

    /** G as the products with the unit vectors, symmetrised, in one pass. */
    private Tensor gaussNewtonMatrix(TensorScope work) {
        try (Tensor eye = work.eye(dtype, dimension)) {
            Tensor g = accumulate(work, (batch, index) -> blockTimes(keptState(batch, index), batch, eye, work));
            try (Tensor t = g.transpose(); Tensor sum = g.add(t)) {
                g.close();
                return sum.scale(0.5);
            }
        }
    }

    @Override
    public long passes() {
        return passes.get();
    }

    @FunctionalInterface
    private interface PerBatch {
        Tensor compute(Batch batch, int index);
    }

    /** One pass: Σ_b (n_b/n)·f(b), owned by {@code work}. */
    private Tensor accumulate(TensorScope work, PerBatch f) {
        Tensor[] acc = new Tensor[1];
        int[] index = new int[1];
        forEachBatch(batch -> {
            double weight = (double) batch.size() / numSamples;
            Tensor h = f.compute(batch, index[0]++);
            if (acc[0] == null) {
                if (weight == 1.0) {
                    acc[0] = h;
                } else {
                    acc[0] = h.scale(weight);
                    h.close();
                }
            } else {
                Tensor next = acc[0].axpy(weight, h);
                acc[0].close();
                h.close();
                acc[0] = next;
            }
        });
        return acc[0];
    }

    /**
     * One pass over the data in batches of {@link #batchSize()}, each checked against the model spec
     * until a complete pass has been; counts as a pass ({@link #passes()}).
     *
     * @throws IllegalStateException if the batches do not hold {@code data().size()} samples
     */
    void forEachBatch(java.util.function.Consumer<Batch> body) {
        boolean check = !validated;
        long total = 0;
        Iterator<Batch> it = data.batches(batchSize);
        while (it.hasNext()) {
            Batch batch = it.next();
            if (check) {
                model.spec().validate(batch, "trainingData");
            }
            body.accept(batch);
            total += batch.size();
        }
        checkTotal(total);
        if (check) {
            validated = true;
        }
        passes.incrementAndGet();
    }

    private void checkTotal(long total) {
        if (total != numSamples) {
            throw new IllegalStateException("trainingData: the data source reported size() = " + numSamples
                    + " but its batches held " + total + " samples; a data source must be re-iterable and"
                    + " report its true size");
        }
    }

    @Override
    public String toString() {
        return "DataHessianOperator[p=" + dimension + ", n=" + numSamples + ", λ=" + regularization
                + ", batchSize=" + batchSize + ", " + dtype.jsonName() + "]";
    }
}
