package org.influence4j.calculators.influence;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.inversion.LowRankInverse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Influence functions with an exchangeable inverse-Hessian solver (direct, CG, ...): pyDVL's
 * {@code TorchInfluenceFunctionModel} family behind one class.
 *
 * <p><b>Definition and sign.</b> With {@code H = (1/n) Σ_j ∇²θℓ(z_j) + λI} at the current
 * parameters θ (the mean-loss Hessian, built by {@link DataHessianOperator} on the data given to
 * {@link #fit}),
 * <pre>  influences(test, train)[i, j] = ⟨H⁻¹ ∇θℓ(test_i), ∇θℓ(train_j)⟩.</pre>
 * Positive values mean that removing {@code train_j} would raise the loss on {@code test_i}
 * (by about {@code influence / n}); negative values mark opponents, exactly as documented in
 * {@link InfluenceFunctionModel}. In {@link InfluenceMode#PERTURBATION} mode the
 * training gradient is replaced by the mixed derivative {@code ∇x∇θℓ(train_j)}, giving pyDVL's shape
 * {@code [m, n, inputDim]}: entry {@code [i, j, d]} is the derivative of the UP influence of
 * {@code train_j} on {@code test_i} with respect to feature d of {@code train_j}, H held fixed.
 *
 * <p><b>Cost.</b> {@link #influenceFactors} is one batched solve of m right-hand sides;
 * {@link #influences} solves for whichever side (test or train) has fewer samples and takes one
 * matrix product, as pyDVL does (H is symmetric, so both give the same numbers), with the other
 * side's per-sample gradients taken in chunks of {@link InfluenceOptions#batchSize()} samples (one
 * product per chunk, the blocks joined on the backend): work arrays of {@code batchSize × p} values
 * stay in cache. A low-rank inverse (Arnoldi, Nyström) projects both sides on its basis instead
 * ({@link LowRankInverse#leftFactors}, {@link LowRankInverse#scores}).
 *
 * <p>Not thread-safe (the prepared inverse keeps state); use one instance per thread.
 *
 * <p>Subclasses ({@link DirectInfluence}, {@link CgInfluence}) are named presets that only choose
 * the solver; they do not change behaviour.
 */
public class InverseHessianInfluence implements InfluenceFunctionModel {

    private static final Logger LOG = LoggerFactory.getLogger(InverseHessianInfluence.class);

    /** How the message for a backend without mixed derivatives ends. */
    private static final String MIXED_ADVICE = "use InfluenceMode.UP or a backend with that capability (djl-pytorch)";

    private final TwiceDifferentiable model;
    private final InverseHvpSolver solver;
    private final InfluenceOptions options;
    private DataHessianOperator operator;
    private InverseHessian inverse;
    private SolverInfo lastSolverInfo;
    private final SolveSummary summary = new SolveSummary();

    /**
     * @param model   the trained model (its current parameters are used)
     * @param solver  how H⁻¹ is applied
     * @param options λ and the chunk size of the data passes
     * @throws IllegalArgumentException naming a null argument
     */
    public InverseHessianInfluence(TwiceDifferentiable model, InverseHvpSolver solver, InfluenceOptions options) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (solver == null) {
            throw new IllegalArgumentException("solver: must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use InfluenceOptions.defaults()");
        }
        this.model = model;
        this.solver = solver;
        this.options = options;
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    /** @return the solver */
    public InverseHvpSolver solver() {
        return solver;
    }

    /** @return the options */
    public InfluenceOptions options() {
        return options;
    }

    /**
     * Builds {@code H + λI} on {@code trainingData} and prepares its inverse (for the direct method
     * this computes and factorises the full Hessian). Refitting replaces the previous inverse.
     *
     * @throws IllegalArgumentException naming {@code trainingData} if the data do not fit the model
     * @throws org.influence4j.api.inversion.InversionException if the solver cannot invert the Hessian
     */
    @Override
    public InverseHessianInfluence fit(DataSource trainingData) {
        if (trainingData == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        closeInverse();
        summary.clear();
        long start = System.nanoTime();
        DataHessianOperator op = new DataHessianOperator(model, trainingData, options.hessianRegularization(),
                options.batchSize(), options.curvature(), options.keptStateBytes());
        InverseHessian prepared;
        try {
            prepared = solver.prepare(op);
        } finally {
            // kept passes serve the fit's many passes; a solver that applies the operator later (CG,
            // LiSSA) keeps them again on its first pass
            op.releaseKeptState();
        }
        try {
            op.validateData();
        } catch (RuntimeException e) {
            prepared.close();
            throw e;
        }
        this.operator = op;
        this.inverse = prepared;
        LOG.info("fitted {} influence on {} samples (p = {}, λ = {}) in {} ms", solver.method().configName(),
                trainingData.size(), model.numParameters(), options.hessianRegularization(),
                (System.nanoTime() - start) / 1_000_000);
        return this;
    }

    @Override
    public boolean isFitted() {
        return inverse != null;
    }

    /** @return the Hessian operator of the last {@link #fit}, if fitted */
    public Optional<DataHessianOperator> operator() {
        return Optional.ofNullable(operator);
    }

    /**
     * {@inheritDoc} Here: {@code model} = {@code inverse-hessian}, {@code method} (the solver's
     * configuration name), {@code solver} (the solver and its options), {@code lambda} and
     * {@code curvature}.
     */
    @Override
    public Map<String, String> configuration() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", "inverse-hessian");
        m.put("method", solver.method().configName());
        m.put("solver", solver.toString());
        m.put("lambda", Double.toString(options.hessianRegularization()));
        m.put("curvature", options.curvature().key());
        return m;
    }

    /** {@inheritDoc} Here: the summary of every solve since the last {@link #fit}. */
    @Override
    public Map<String, Object> diagnostics() {
        return summary.toJson();
    }

    /** @return the diagnostics of the most recent solve (iterations, residuals, warnings), if any */
    public Optional<SolverInfo> lastSolverInfo() {
        return Optional.ofNullable(lastSolverInfo);
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException naming {@code batch} if it does not fit the model
     */
    @Override
    public Tensor influenceFactors(Batch batch, TensorScope scope) {
        requireFitted();
        model.spec().validate(batch, "batch");
        return factors(batch, scope);
    }

    /**
     * {@inheritDoc}
     *
     * <p>In {@link InfluenceMode#PERTURBATION} mode the factors of {@code test} are computed (one
     * solve) and contracted with the mixed derivatives of the training samples, chunk by chunk
     * ({@link #influencesFromFactors}); the result has shape {@code [m, n, inputDim]}.
     *
     * @throws IllegalStateException if not fitted
     * @throws IllegalArgumentException naming {@code test} or {@code train} if a batch does not fit
     * @throws UnsupportedOperationException for {@link InfluenceMode#PERTURBATION} if the backend lacks
     *     {@link BackendCapability#MIXED_DERIVATIVES}
     */
    @Override
    public Tensor influences(Batch test, Batch train, InfluenceMode mode, TensorScope scope) {
        InfluenceProducts.requireMode(mode);
        requireFitted();
        InfluenceProducts.requireBatches(model.spec(), test, train);
        Batch other = train == null ? test : train;
        try (TensorScope work = scope.newChild()) {
            Tensor result;
            if (mode == InfluenceMode.PERTURBATION) {
                InfluenceProducts.requireMixedDerivatives(model, MIXED_ADVICE);
                Tensor testFactors = factors(test, work);
                result = InfluenceProducts.perturbation(model, testFactors, other, options.batchSize(), work);
            } else if (inverse instanceof LowRankInverse lowRank) {
                // through the factors V: never forms the [m, p] test factors (LowRankInverse#bilinear),
                // the training gradients projected chunk by chunk (test x test: the gradients at hand)
                // without the complement the training side is only V Rᵀ [r, n]: joined first, one product
                Tensor testGradients = model.perSampleGradients(test, work);
                Tensor left = lowRank.leftFactors(testGradients, work);
                if (train == null) {
                    result = lowRank.scores(left, testGradients, testGradients, work);
                } else if (lowRank.hasComplement()) {
                    result = InfluenceProducts.joinColumns(train, GradientChunks.bounded(model,
                            options.batchSize()), work, (part, step) ->
                            lowRank.scores(left, testGradients, model.perSampleGradients(part, step), step));
                } else {
                    // V Rᵀ as any factors' products with the training gradients: a layer graph's Embedding
                    // tables stay the rows their ids look up (InfluenceProducts#gradientProducts)
                    try (Tensor basis = lowRank.basis(work); Tensor right = InfluenceProducts.gradientProducts(model,
                            basis, train, options.batchSize(), work)) {
                        result = left.matmul(right);
                    }
                }
                record(lowRank.info(), test.size());
            } else if (train != null && train.size() < test.size()) {
                Tensor trainFactors = factors(train, work);
                try (Tensor transposed = InfluenceProducts.gradientProducts(model, trainFactors, test,
                        options.batchSize(), work)) {
                    result = transposed.transpose();
                }
            } else {
                Tensor testFactors = factors(test, work);
                result = InfluenceProducts.gradientProducts(model, testFactors, other, options.batchSize(), work);
            }
            return result.moveTo(scope);
        }
    }

    /**
     * {@inheritDoc} Needs only the model, not the fitted inverse. In
     * {@link InfluenceMode#PERTURBATION} mode the result is {@code [m, n, inputDim]} with
     * {@code out[t, i, :] = ∇_{x_i} ⟨factors[t,:], ∇θℓ(x_i, y_i)⟩}, computed in chunks of
     * {@link InfluenceOptions#batchSize()} training samples.
     *
     * @throws IllegalArgumentException if {@code factors} is not {@code [m, p]} or {@code train} does not fit
     * @throws UnsupportedOperationException for {@link InfluenceMode#PERTURBATION} if the backend lacks
     *     {@link BackendCapability#MIXED_DERIVATIVES}
     */
    @Override
    public Tensor influencesFromFactors(Tensor factors, Batch train, InfluenceMode mode, TensorScope scope) {
        return InfluenceProducts.fromFactors(model, factors, train, mode, options.batchSize(), MIXED_ADVICE, scope);
    }

    /** Not thread-safe: the prepared inverse keeps state. */
    @Override
    public boolean isThreadSafe() {
        return false;
    }

    @Override
    public void close() {
        closeInverse();
    }

    /**
     * {@inheritDoc} One solve with the fitted inverse; its diagnostics become {@link #lastSolverInfo()}.
     */
    @Override
    public Tensor inverseHessianProducts(Tensor vectors, TensorScope scope) {
        requireFitted();
        InfluenceProducts.requireVectors(vectors, model.numParameters());
        InverseHvpResult result = inverse.solve(vectors, scope);
        record(result.info(), vectors.shape()[0]);
        return result.x();
    }

    private void record(SolverInfo info, long vectors) {
        lastSolverInfo = info;
        summary.add(info);
        if (!info.converged()) {
            LOG.warn("inverse Hessian-vector products of {} vectors did not converge (largest relative residual {})",
                    vectors, info.maxResidual());
        }
    }

    private Tensor factors(Batch batch, TensorScope scope) {
        try (TensorScope work = scope.newChild()) {
            return inverseHessianProducts(model.perSampleGradients(batch, work), scope);
        }
    }

    private void requireFitted() {
        if (inverse == null) {
            throw new IllegalStateException("influence model is not fitted: call fit(trainingData) first");
        }
    }

    private void closeInverse() {
        if (inverse != null) {
            inverse.close();
            operator.close();
            inverse = null;
            operator = null;
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + solver + ", " + options + (isFitted() ? ", fitted" : "") + "]";
    }
}
