package org.influence4j.calculators.attribution;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.api.provenance.Fingerprints;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.calculators.influence.InverseHessianInfluence;

/**
 * First-order influence of training points, with the semantics of deel-influenciae's
 * {@code FirstOrderInfluenceCalculator}: influence vectors, self-influence, influence values in
 * batches, group influence, top-k and RelatIF normalisation, over any inverse-Hessian solver or any
 * other influence-function method (EK-FAC); plain scores go through {@link InfluenceFunctionAttribution}.
 *
 * <p><b>Definitions.</b> H = (1/n) Σ_j ∇²θℓ(z_j) + λI is the Hessian of the <em>mean</em> loss over
 * the n points given to the constructor (pyDVL's convention; Captum and Koh &amp; Liang use the summed
 * loss, whose influences are n times smaller per point after their 1/n). With g(z) = ∇θℓ(z):
 * <ul>
 *   <li>influence vector of training point z: {@code v(z) = c(z)·H⁻¹g(z)}, with c(z) = 1
 *       ({@link RelatIf#NONE}), 1/‖H⁻¹g(z)‖ ({@link RelatIf#THETA_RELATIVE}, influenciae's
 *       {@code normalize=True}) or 1/√⟨g(z), H⁻¹g(z)⟩ ({@link RelatIf#LOSS_RELATIVE}); the parameter
 *       change of removing z (same 1/n scaling) is ≈ H⁻¹g(z)/n;</li>
 *   <li>influence value of z on a test point t: {@code ⟨v(z), g(t)⟩}; positive = proponent: removing z
 *       raises the loss of t by ≈ value/n (without normalisation);</li>
 *   <li>self-influence of z: {@code ⟨v(z), g(z)⟩} (≥ 0 when H is positive definite);</li>
 *   <li>group influence vector of a group U: {@code v(U) = H⁻¹ Σ_{z∈U} g(z)} (first order, equal to the
 *       sum of the members' vectors), or with {@link FirstOrderOptions#secondOrderGroups()}
 *       {@code v(U) + (1/n) H⁻¹ H_U v(U)}, H_U = Σ_{z∈U} ∇²θℓ(z): the second-order term of Basu, You
 *       &amp; Feizi (2020) in this project's fixed-normalizer convention (removing U from
 *       {@code (1/n)Σ_j ℓ_j + (λ/2)‖θ‖²} changes θ by ≈ v(U)/n to second order in 1/n). Groups are never
 *       RelatIF-normalised;</li>
 *   <li>group influence value: {@code ⟨v(U), Σ_{t∈T} g(t)⟩} for an evaluation group T (the group
 *       itself when T is absent); removing U changes Σ_{t∈T} ℓ(t) by ≈ value/n.</li>
 * </ul>
 *
 * <p><b>Caching.</b> With {@link VectorCache#MEMORY} or {@link VectorCache#DISK} the influence
 * vectors of the last training source used ({@code DataSource} identity) are kept on the Java heap
 * (n·p doubles); with DISK they are also read from / written (atomically) to
 * {@link FirstOrderOptions#cacheFile()}. {@link #saveInfluenceVectors} and
 * {@link #loadInfluenceVectors} are explicit save and load paths ({@code InfluenceVectorStore} holds
 * both). Files on disk carry a provenance sidecar ({@code FILE.provenance.json}: model, parameters,
 * fit data, scored data, the influence method's configuration, normalisation, dtype, backend) and are
 * read back only when it matches: a cache of another model, data or λ is refused with a
 * {@link org.influence4j.api.provenance.ProvenanceMismatchException} naming the differing fields
 * (delete the file to recompute). Group influence is {@link GroupInfluence} on the same fitted influence model.
 *
 * <p>Which side is solved: without normalisation and cache, scores solve the m test gradients
 * (H is symmetric, so the values are the same); otherwise the training influence vectors are
 * solved. Not thread-safe (the prepared inverse keeps state).
 */
public final class FirstOrderInfluenceCalculator implements TrainingDataAttribution, AutoCloseable {

    private final TwiceDifferentiable model;
    private final FirstOrderOptions options;
    private final InfluenceFunctionModel influence;
    private final boolean ownsInfluence;
    private final InfluenceFunctionAttribution plain;
    private final long hessianSamples;
    private final InfluenceVectorStore store;
    private final GroupInfluence groups;
    private final DataSource trainingData;
    private String fitDataFingerprint;

    /**
     * Builds H + λI on {@code trainingData} and prepares its inverse with {@code solver} (an
     * {@link InverseHessianInfluence} this calculator owns and closes).
     *
     * @param model        the trained model (its current parameters are used)
     * @param trainingData the data the Hessian is taken over (influenciae's {@code dataset})
     * @param solver       how H⁻¹ is applied (direct, CG, ...)
     * @param options      λ, curvature, normalisation, group order and cache
     * @throws IllegalArgumentException naming a null argument or data that do not fit the model
     * @throws org.influence4j.api.inversion.InversionException if the solver cannot invert H + λI
     */
    public FirstOrderInfluenceCalculator(TwiceDifferentiable model, DataSource trainingData, InverseHvpSolver solver,
                                         FirstOrderOptions options) {
        this(model, newInverseHessianInfluence(model, solver, options), trainingData, options, true);
    }

    /**
     * Builds the calculator on any influence-function method (e.g. {@code EkfacInfluence}), which
     * is fitted here on {@code trainingData}; the caller keeps ownership of {@code influence}.
     * {@link FirstOrderOptions#influence()} is then used only for its batch size.
     *
     * @throws IllegalArgumentException naming a null argument or data that do not fit the model
     */
    public FirstOrderInfluenceCalculator(TwiceDifferentiable model, InfluenceFunctionModel influence,
                                         DataSource trainingData, FirstOrderOptions options) {
        this(model, influence, trainingData, options, false);
    }

    private FirstOrderInfluenceCalculator(TwiceDifferentiable model, InfluenceFunctionModel influence,
                                          DataSource trainingData, FirstOrderOptions options, boolean owns) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (influence == null) {
            throw new IllegalArgumentException("influence: must not be null; e.g. new EkfacInfluence(model, options)");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use FirstOrderOptions.of(lambda)");
        }
        Attributions.requireNonEmpty(trainingData, "trainingData");
        this.model = model;
        this.options = options;
        this.influence = influence;
        this.ownsInfluence = owns;
        this.hessianSamples = trainingData.size();
        this.trainingData = trainingData;
        try {
            influence.fit(trainingData);
        } catch (RuntimeException e) {
            if (owns) {
                influence.close();
            }
            throw e;
        }
        this.plain = new InfluenceFunctionAttribution(model, influence, options.influence().batchSize());
        this.store = new InfluenceVectorStore(options.cache(), options.cacheFile());
        this.groups = new GroupInfluence(model, influence, hessianSamples, options.secondOrderGroups());
    }

    private static InfluenceFunctionModel newInverseHessianInfluence(TwiceDifferentiable model,
                                                                      InverseHvpSolver solver,
                                                                      FirstOrderOptions options) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (solver == null) {
            throw new IllegalArgumentException("solver: must not be null; e.g. new DirectSolver()");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use FirstOrderOptions.of(lambda)");
        }
        return new InverseHessianInfluence(model, solver, options.influence());
    }

    /** @return the options */
    public FirstOrderOptions options() {
        return options;
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    /** @return the influence model the scores are built on */
    public InfluenceFunctionModel influence() {
        return influence;
    }

    /** @return n, the number of samples the Hessian is averaged over */
    public long hessianSamples() {
        return hessianSamples;
    }

    /** @return diagnostics of the latest solve of an inverse-Hessian method, or null before the first (or for EK-FAC) */
    public SolverInfo lastSolverInfo() {
        return influence instanceof InverseHessianInfluence ihi ? ihi.lastSolverInfo().orElse(null) : null;
    }

    private DType dtype() {
        return model.spec().dtype();
    }

    private int p() {
        return model.numParameters();
    }

    /** @return whether scores are plain influences (no RelatIF, no cached vectors): the adapter's paths */
    private boolean plainScores(DataSource source) {
        return options.normalization() == RelatIf.NONE && (!store.enabled() || source == null);
    }

    /**
     * Influence vectors of the samples of one batch (normalised as the options say).
     *
     * @return {@code [b, p]} owned by {@code scope}
     * @throws IllegalArgumentException naming {@code train} if the batch is empty or does not fit
     */
    public Tensor influenceVectors(Batch train, TensorScope scope) {
        Attributions.requireNonEmpty(train, "train");
        model.spec().validate(train, "train");
        try (TensorScope work = scope.newChild()) {
            Tensor g = model.perSampleGradients(train, work);
            Tensor x = influence.inverseHessianProducts(g, work);
            return normalize(x, g, work).moveTo(scope);
        }
    }

    private Tensor normalize(Tensor x, Tensor g, TensorScope scope) {
        if (options.normalization() == RelatIf.NONE) {
            return x;
        }
        double[] d = options.normalization() == RelatIf.THETA_RELATIVE ? x.rowDots(x).toDoubleArray()
                : x.rowDots(g).toDoubleArray();
        double[] factors = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            if (d[i] < 0) {
                throw new IllegalStateException("ℓ-relative RelatIF needs self-influence >= 0 but training sample "
                        + i + " of the chunk has " + d[i] + "; H + λI is not positive definite: raise λ");
            }
            factors[i] = d[i] > 0 ? 1.0 / Math.sqrt(d[i]) : 0.0;
        }
        try (Tensor f = scope.fromArray(factors, x.dtype(), factors.length)) {
            return x.scaleRows(f);
        }
    }

    /**
     * Influence vectors of a whole training source, from the cache where the options enable one.
     *
     * @return {@code [n, p]} owned by {@code scope}
     */
    public Tensor influenceVectors(DataSource train, TensorScope scope) {
        Attributions.requireNonEmpty(train, "train");
        if (store.enabled()) {
            return scope.fromArray(cachedVectors(train), dtype(), train.size(), p());
        }
        return computeAll(train, scope);
    }

    private Tensor computeAll(DataSource train, TensorScope scope) {
        Tensor acc = null;
        Iterator<Batch> it = train.batches(options.influence().batchSize());
        while (it.hasNext()) {
            Tensor v = influenceVectors(it.next(), scope);
            if (acc == null) {
                acc = v;
            } else {
                Tensor joined = acc.concat(v);
                acc.close();
                v.close();
                acc = joined;
            }
        }
        return acc;
    }

    private double[] cachedVectors(DataSource train) {
        return store.vectors(train, p(), dtype(), () -> {
            try (TensorScope scope = model.backend().newScope()) {
                return computeAll(train, scope).toDoubleArray();
            }
        }, () -> vectorsRecord(train));
    }

    /**
     * The provenance of the influence vectors of {@code train}: everything they are computed from —
     * model, parameters, the data the curvature was fitted on, {@code train}, the influence method's
     * configuration, the normalisation, dtype and backend.
     */
    private Provenance vectorsRecord(DataSource train) {
        if (fitDataFingerprint == null) {
            fitDataFingerprint = Fingerprints.sha256(trainingData);
        }
        return Provenance.empty()
                .with("content", "first-order influence vectors")
                .with("model.sha256", Fingerprints.sha256(model.spec().toJson()))
                .with("parameters.sha256", Fingerprints.sha256(model.parameters()))
                .with("fit_data.sha256", fitDataFingerprint)
                .with("train.sha256", Fingerprints.sha256(train))
                .withAll("influence.", influence.configuration())
                .with("normalization", options.normalization())
                .with("dtype", dtype().jsonName())
                .with("backend", model.backend().name())
                .with("backend.version", model.backend().version());
    }

    /**
     * Writes the influence vectors of {@code train} ({@code [n, p]}, the model's dtype) as an
     * {@code .npy} file with its provenance sidecar, atomically (nothing half-written is left on failure).
     *
     * @throws UncheckedIOException naming the file when writing fails
     */
    public void saveInfluenceVectors(DataSource train, Path file) {
        if (file == null) {
            throw new IllegalArgumentException("file: must not be null");
        }
        double[] all = store.held(train);
        if (all == null) {
            try (TensorScope scope = model.backend().newScope()) {
                all = influenceVectors(train, scope).toDoubleArray();
            }
        }
        InfluenceVectorStore.save(file, all, train.size(), p(), dtype(), vectorsRecord(train));
    }

    /**
     * Reads influence vectors written by {@link #saveInfluenceVectors} and uses them for
     * {@code train} from now on (whatever the cache option), when their provenance sidecar matches
     * this calculator and {@code train}.
     *
     * @throws UncheckedIOException naming the file when it is missing or unreadable
     * @throws IllegalArgumentException naming the file when its shape is not {@code [n, p]}
     */
    public void loadInfluenceVectors(DataSource train, Path file) {
        Attributions.requireNonEmpty(train, "train");
        store.load(train, file, p(), vectorsRecord(train));
    }

    /** Drops the in-memory cache. */
    public void clearCache() {
        store.clear();
    }

    @Override
    public double[] selfInfluence(DataSource train) {
        Attributions.requireNonEmpty(train, "train");
        if (plainScores(train)) {
            return plain.selfInfluence(train);
        }
        double[] out = new double[Math.toIntExact(train.size())];
        int offset = 0;
        Iterator<Batch> it = train.batches(options.influence().batchSize());
        while (it.hasNext()) {
            Batch chunk = it.next();
            model.spec().validate(chunk, "train");
            try (TensorScope work = model.backend().newScope()) {
                Tensor g = model.perSampleGradients(chunk, work);
                Tensor v = vectorsOf(train, chunk, offset, work);
                double[] s = v.rowDots(g).toDoubleArray();
                System.arraycopy(s, 0, out, offset, s.length);
            }
            offset += chunk.size();
        }
        return out;
    }

    private Tensor vectorsOf(DataSource source, Batch chunk, long offset, TensorScope scope) {
        if (store.enabled() && source != null) {
            double[] all = cachedVectors(source);
            int p = p();
            return scope.fromArray(Arrays.copyOfRange(all, Math.toIntExact(offset * p),
                    Math.toIntExact((offset + chunk.size()) * p)), dtype(), chunk.size(), p);
        }
        return influenceVectors(chunk, scope);
    }

    /** @return influence values {@code [m, n]}: row i, column j = ⟨v(train_j), g(test_i)⟩ */
    @Override
    public Tensor influences(Batch test, Batch train, TensorScope scope) {
        Attributions.requireNonEmpty(test, "test");
        Attributions.requireNonEmpty(train, "train");
        model.spec().validate(test, "test");
        model.spec().validate(train, "train");
        if (plainScores(null)) {
            return plain.influences(test, train, scope);
        }
        try (TensorScope work = scope.newChild()) {
            return scorer(test, null, work).scores(train, 0, work).moveTo(scope);
        }
    }

    private Attributions.BlockScorer scorer(Batch test, DataSource source, TensorScope callScope) {
        if (plainScores(source)) {
            Tensor zTest = influence.influenceFactors(test, callScope);
            return (chunk, offset, scope) -> influence.influencesFromFactors(zTest, chunk, InfluenceMode.UP, scope);
        }
        Tensor gTest = model.perSampleGradients(test, callScope);
        return (chunk, offset, scope) -> {
            Tensor v = vectorsOf(source, chunk, offset, scope);
            try (Tensor t = v.transpose()) {
                return gTest.matmul(t).moveTo(scope);
            }
        };
    }

    /**
     * Influence values of every point of {@code train} on every test point, in chunks of the
     * configured batch size (influenciae's {@code estimate_influence_values_in_batches}), uses the
     * cache when enabled.
     *
     * @return row-major {@code [m, n]} on the host
     */
    public double[] influenceValues(Batch test, DataSource train) {
        Attributions.requireNonEmpty(test, "test");
        Attributions.requireNonEmpty(train, "train");
        model.spec().validate(test, "test");
        int m = test.size();
        int n = Math.toIntExact(train.size());
        double[] out = new double[Math.multiplyExact(m, n)];
        try (TensorScope scope = model.backend().newScope()) {
            Attributions.BlockScorer scorer = scorer(test, train, scope);
            long offset = 0;
            Iterator<Batch> it = train.batches(options.influence().batchSize());
            while (it.hasNext()) {
                Batch chunk = it.next();
                model.spec().validate(chunk, "train");
                try (TensorScope work = scope.newChild()) {
                    double[] block = scorer.scores(chunk, offset, work).toDoubleArray();
                    int c = chunk.size();
                    for (int i = 0; i < m; i++) {
                        System.arraycopy(block, i * c, out, (int) (i * (long) n + offset), c);
                    }
                }
                offset += chunk.size();
            }
        }
        return out;
    }

    @Override
    public TopK topK(Batch test, DataSource train, int k, TopKOrder order) {
        Attributions.requireTopK(model.spec(), test, train, k);
        if (plainScores(train)) {
            return plain.topK(test, train, k, order);
        }
        try (TensorScope scope = model.backend().newScope()) {
            Attributions.BlockScorer scorer = scorer(test, train, scope);
            return Attributions.streamTopK(test.size(), train, k, order, options.influence().batchSize(), scope,
                    (chunk, offset, work) -> {
                        model.spec().validate(chunk, "train");
                        return scorer.scores(chunk, offset, work);
                    });
        }
    }

    /**
     * The group influence vector v(U) (see the class comment; second order when the options say so).
     *
     * @return {@code [p]} owned by {@code scope}
     * @throws IllegalArgumentException naming {@code group} if it is empty or does not fit
     */
    public Tensor groupInfluenceVector(Batch group, TensorScope scope) {
        return groups.vector(group, scope);
    }

    /**
     * The group influence value ⟨v(U), Σ_{t∈T} g(t)⟩ ({@link GroupInfluence#value}).
     *
     * @param evaluate the evaluation group T, or null for U itself
     * @throws IllegalArgumentException naming {@code group} or {@code evaluate} if empty or unfit
     */
    public double groupInfluenceValue(Batch group, Batch evaluate) {
        return groups.value(group, evaluate);
    }

    @Override
    public void close() {
        if (ownsInfluence) {
            influence.close();
        }
        clearCache();
    }

    @Override
    public String toString() {
        return "FirstOrderInfluenceCalculator[" + options + ", n=" + hessianSamples + "]";
    }
}
