package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.influence4j.api.Backend;
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
import org.influence4j.calculators.internal.Waves;

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
 * positive semi-definite: the solvers converge where the Hessian has negative curvature. With
 * {@link Curvature#EMPIRICAL_FISHER} it is {@code F + λI}, {@code F = (1/n) Σ_i g_i g_iᵀ}
 * ({@link TwiceDifferentiable#empiricalFisherBlock}; pyDVL's "Gauss-Newton"), also positive
 * semi-definite; its kept state is the batch's per-sample gradients.
 *
 * <p><b>Kept passes.</b> The operator keeps, for as many of the first batches as fit in
 * {@link #keptStateBytes()}, what the model's products recompute on every pass
 * ({@link TwiceDifferentiable#keepCurvature}: a layer graph's recorded forward pass, and for the
 * Hessian its backward pass), so that each later product of those batches sweeps the record only.
 * The numbers are the same as without it. The state is made on the first pass that needs it, freed
 * by {@link #releaseKeptState()} and {@link #close()}, and made again when the model's parameters
 * have changed since. Models that keep nothing (the dense MLPs, nd4j) cost one call to find out.
 *
 * <p><b>Kept batches on several threads.</b> Where the calling thread's backend runs several intra-op
 * threads ({@link Backend#callingThreadOpThreads()}, e.g. djl-pytorch) and the
 * model has replicas ({@link TwiceDifferentiable#replicate}), {@link #apply} computes the kept
 * batches' products in waves, as many at a time as the caller has intra-op threads (fewer where the
 * replicas' parameters would exceed {@link Waves#AUTOMATIC_REPLICA_BYTES}): kept batch i belongs to
 * slot {@code i mod T}, slot 0 runs on the calling thread with the model, slot s on a pool thread
 * with replica s, each with its share of the intra-op threads. A small model's products leave
 * intra-op threads idle much of the time (small operations run on one), which this fills. The
 * products are summed in batch order, as on one thread; only an engine's own reductions inside a
 * product may round differently with fewer intra-op threads. A caller that wants the products on
 * its own thread sets its intra-op threads to 1 ({@link Backend#setCallingThreadOpThreads}).
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
     * The models of the kept batches' slots while state is kept: slot 0 is {@link #model}, each later
     * slot a replica (made when a second batch is kept); kept batch i belongs to slot {@code i mod slots}.
     */
    private final List<TwiceDifferentiable> slotModels = new ArrayList<>();
    /** The root scope of each slot after the first, for its products' results (index slot − 1). */
    private final List<TensorScope> slotScopes = new ArrayList<>();

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
     * @param curvature      the Hessian, the Gauss-Newton matrix or the empirical Fisher
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
     * @param curvature      the Hessian, the Gauss-Newton matrix or the empirical Fisher
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
            throw new IllegalArgumentException("curvature: must not be null; use " + Curvature.VALUES);
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
     * @return how many threads compute the kept batches' products in {@link #apply}: the model's and
     *     one per replica; 1 while nothing is kept, and where the caller's backend runs one intra-op
     *     thread or the model has no replicas
     */
    public synchronized int keptThreads() {
        return Math.max(1, slotModels.size());
    }

    /**
     * Frees the kept passes (a later pass keeps them again), for callers done with the operator for a
     * while (a solver after its fit).
     */
    public synchronized void releaseKeptState() {
        try {
            kept.forEach(k -> k.state().close());
        } finally {
            kept.clear();
            keptFull = false;
            keptParameters = null;
            slotScopes.forEach(TensorScope::close);
            slotScopes.clear();
            slotModels.subList(Math.min(1, slotModels.size()), slotModels.size()).forEach(TwiceDifferentiable::close);
            slotModels.clear();
        }
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
            Tensor acc = productPass(work, vs, vector);
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
     * {@inheritDoc} Computed as {@code Σ_b (n_b/n)·C_b + λI}, C_b the batch's Hessian, or the
     * products of its other curvature with the identity; needs {@code p²} values of memory.
     */
    @Override
    public Tensor toMatrix(TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            Tensor acc = curvature == Curvature.HESSIAN ? accumulate((batch, index) -> model.hessian(batch, work))
                    : curvatureMatrix(work);
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

    /** The curvature of {@code batch} (from its kept state where there is one) times {@code vs}, on the calling thread. */
    private Tensor curvatureTimes(KeptCurvature state, Batch batch, Tensor vs, boolean vector, TensorScope work) {
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
        if (kept.size() == 1 && slotModels.size() == 1) {
            addReplicas();
        }
        if (curvature == Curvature.EMPIRICAL_FISHER
                && model.empiricalFisherKeptBytes(batch.size()) > keptStateBytes - keptBytes()) {
            keptFull = true; // the per-sample gradients the state would keep do not fit: not formed
            return null;
        }
        int slot = kept.isEmpty() ? 0 : index % slotModels.size();
        KeptCurvature state = (slot == 0 ? model : slotModels.get(slot)).keepCurvature(batch, curvature);
        long bytes = state.keptBytes();
        if (bytes == 0 || bytes > keptStateBytes - keptBytes()) {
            state.close();
            keptFull = true;
            return null;
        }
        if (kept.isEmpty()) {
            keptParameters = model.parameters();
            slotModels.add(model);
        }
        kept.add(new Kept(state, batch.size()));
        return state;
    }

    /**
     * Adds the replicas of the automatic choice to the slots, once a second batch is to be kept (a
     * single kept batch runs on the calling thread with all its intra-op threads).
     */
    private void addReplicas() {
        int wanted = Waves.automaticThreads((long) dimension * dtype.bytes(), model.backend().callingThreadOpThreads());
        try {
            while (slotModels.size() < wanted) {
                TwiceDifferentiable replica = model.replicate();
                slotModels.add(replica);
                slotScopes.add(model.backend().newScope());
            }
        } catch (UnsupportedOperationException e) {
            // a model without replicas computes every product on the calling thread
        }
    }

    /** A batch's kept state and its number of samples (checked on later passes). */
    private record Kept(KeptCurvature state, int samples) {
    }

    /**
     * One pass of products with {@code vs}: the kept batches in waves over their slots (one wave per
     * {@code slots} batches, the caller computing slot 0's), the others on the calling thread; summed in
     * batch order.
     */
    private Tensor productPass(TensorScope work, Tensor vs, boolean vector) {
        WeightedSum sum = new WeightedSum();
        List<KeptProduct> wave = new ArrayList<>();
        int[] next = new int[1];
        try (WavePass pass = new WavePass(vs, vector)) {
            forEachBatch(batch -> {
                int index = next[0]++;
                double weight = (double) batch.size() / numSamples;
                KeptCurvature state = keptState(batch, index);
                int slots = slotModels.size();
                // a wave starts at slot 0; the first pass keeps batch 1 before its slot has a thread
                if (state == null || slots < 2 || wave.isEmpty() && index % slots != 0) {
                    flush(wave, pass, work, sum);
                    pass.restoreCallerThreads();
                    sum.add(weight, curvatureTimes(state, batch, vs, vector, work));
                    return;
                }
                wave.add(new KeptProduct(state, batch, index % slots, weight));
                if (wave.size() == slots) {
                    flush(wave, pass, work, sum);
                }
            });
            flush(wave, pass, work, sum);
            return sum.value();
        }
    }

    /** A kept batch's product to compute: its state, batch, slot and weight {@code n_b / n}. */
    private record KeptProduct(KeptCurvature state, Batch batch, int slot, double weight) {
    }

    /**
     * Computes a wave of kept products, the first (slot 0) on the calling thread and each other on a
     * pool thread with its slot's replica and scope, each with its share of the caller's intra-op
     * threads (set once per pass, not per wave), adds them to {@code sum} in order and empties
     * {@code wave}; a last wave of one product runs on the calling thread with all its threads.
     */
    private void flush(List<KeptProduct> wave, WavePass pass, TensorScope work, WeightedSum sum) {
        if (wave.isEmpty()) {
            return;
        }
        KeptProduct head = wave.get(0);
        if (wave.size() == 1) {
            // the pass's last kept batch alone: on the calling thread with all its intra-op threads
            pass.restoreCallerThreads();
            sum.add(head.weight(), curvatureTimes(head.state(), head.batch(), pass.vs, pass.vector, work));
            wave.clear();
            return;
        }
        Backend backend = model.backend();
        int share = pass.lowerCallerThreads();
        List<KeptProduct> tail = wave.subList(1, wave.size());
        List<Tensor> rowsBySlot = tail.stream().map(p -> pass.directions(p.slot())).toList();
        List<Future<Tensor>> others = new ArrayList<>(tail.size());
        for (int j = 0; j < tail.size(); j++) {
            KeptProduct p = tail.get(j);
            TensorScope slotScope = slotScopes.get(p.slot() - 1);
            Tensor rows = rowsBySlot.get(j);
            others.add(Waves.submit(() -> {
                if (backend.callingThreadOpThreads() != share) {
                    backend.setCallingThreadOpThreads(share);
                }
                return pass.shaped(p.state().times(rows, slotScope));
            }));
        }
        Tensor first = null;
        Throwable failure = null;
        try {
            first = curvatureTimes(head.state(), head.batch(), pass.vs, pass.vector, work);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        List<Tensor> results = Waves.await(others, failure, "a kept curvature product");
        sum.add(head.weight(), first);
        for (int j = 1; j < wave.size(); j++) {
            sum.add(wave.get(j).weight(), results.get(j - 1));
        }
        wave.clear();
    }

    /**
     * What one pass's waves share: the directions as each pool thread's slot reads them, as rows
     * {@code [k, p]} copied into the slot's own scope, so that no thread makes arrays in another's
     * scope (an engine may put an operation's result beside its input), made on the calling thread
     * when first needed; and the calling thread's intra-op threads, lowered to its share while the
     * waves run ({@link #lowerCallerThreads}). {@link #close} frees the copies and gives the calling
     * thread back its intra-op threads.
     */
    private final class WavePass implements AutoCloseable {
        private final Tensor vs;
        private final boolean vector;
        /** The copies of the directions by slot; null before the first wave. */
        private Tensor[] bySlot;
        /** The caller's intra-op threads while the waves run with a share of them; 0 otherwise. */
        private int callerOpThreads;
        private int share;

        WavePass(Tensor vs, boolean vector) {
            this.vs = vs;
            this.vector = vector;
        }

        /** @return the directions for the thread of {@code slot} (≥ 1), a copy in its scope */
        Tensor directions(int slot) {
            if (bySlot == null) {
                bySlot = new Tensor[slotModels.size()];
            }
            if (bySlot[slot] == null) {
                Tensor rows = vector ? vs.reshape(1, dimension) : vs;
                Tensor copy = rows.scale(1.0).moveTo(slotScopes.get(slot - 1));
                if (vector) {
                    rows.close();
                }
                bySlot[slot] = copy;
            }
            return bySlot[slot];
        }

        /** @return a product {@code [k, p]} in the shape of the directions: {@code [p]} for a vector */
        Tensor shaped(Tensor product) {
            if (!vector) {
                return product;
            }
            try (product) {
                return product.reshape(dimension);
            }
        }

        /** @return each slot's share of the caller's intra-op threads, now the calling thread's own */
        int lowerCallerThreads() {
            if (callerOpThreads == 0) {
                Backend backend = model.backend();
                callerOpThreads = Math.max(1, backend.callingThreadOpThreads());
                share = Math.max(1, callerOpThreads / slotModels.size());
                if (share != callerOpThreads) {
                    backend.setCallingThreadOpThreads(share);
                }
            }
            return share;
        }

        /** Gives the calling thread back the intra-op threads it had before the waves. */
        void restoreCallerThreads() {
            if (callerOpThreads != 0 && share != callerOpThreads) {
                model.backend().setCallingThreadOpThreads(callerOpThreads);
            }
            callerOpThreads = 0;
        }

        @Override
        public void close() {
            try {
                restoreCallerThreads();
            } finally {
                if (bySlot != null) {
                    for (Tensor copy : bySlot) {
                        if (copy != null) {
                            copy.close();
                        }
                    }
                }
            }
        }
    }

    /** Σ_b (n_b/n)·f(b) as the products arrive, each freed once added. */
    private static final class WeightedSum {
        private Tensor acc;

        void add(double weight, Tensor h) {
            if (acc == null) {
                if (weight == 1.0) {
                    acc = h;
                } else {
                    acc = h.scale(weight);
                    h.close();
                }
            } else {
                Tensor next = acc.axpy(weight, h);
                acc.close();
                h.close();
                acc = next;
            }
        }

        Tensor value() {
            return acc;
        }
    }

    /** G or F as the products with the unit vectors, symmetrised, in one pass. */
    private Tensor curvatureMatrix(TensorScope work) {
        try (Tensor eye = work.eye(dtype, dimension)) {
            Tensor g = accumulate((batch, index) -> blockTimes(keptState(batch, index), batch, eye, work));
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

    /** One pass: Σ_b (n_b/n)·f(b). */
    private Tensor accumulate(PerBatch f) {
        WeightedSum sum = new WeightedSum();
        int[] index = new int[1];
        forEachBatch(batch -> sum.add((double) batch.size() / numSamples, f.compute(batch, index[0]++)));
        return sum.value();
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
