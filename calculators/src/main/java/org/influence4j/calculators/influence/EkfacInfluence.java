package org.influence4j.calculators.influence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.internal.DenseLinalg;

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

    /** How the message for a backend without mixed derivatives ends. */
    private static final String MIXED_ADVICE = "use InfluenceMode.UP";

    private final TwiceDifferentiable model;
    private final EkfacOptions options;
    private final EkfacEstimator estimator;
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
        this.estimator = new EkfacEstimator(model, options);
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    /** @return the options */
    public EkfacOptions options() {
        return options;
    }

    /**
     * {@inheritDoc} Here: {@code model} = {@code ekfac}, {@code lambda}, {@code update_diagonal} and
     * {@code curvature} (the G estimate).
     */
    @Override
    public Map<String, String> configuration() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", "ekfac");
        m.put("lambda", Double.toString(options.hessianRegularization()));
        m.put("update_diagonal", Boolean.toString(options.updateDiagonal()));
        m.put("curvature", EkfacOptions.CURVATURE.format(options.curvature()));
        return m;
    }

    /** @return the fitted per-layer representation, in layer order, if fitted */
    public Optional<List<EkfacLayer>> representation() {
        return Optional.ofNullable(layers);
    }

    /**
     * Estimates the Kronecker factors on {@code trainingData}, decomposes them and refits the
     * eigenvalues where asked (and always for diagonal blocks) ({@link EkfacEstimator}). Refitting
     * replaces the previous representation.
     *
     * @throws IllegalArgumentException naming {@code trainingData} if it is null or does not fit the model
     */
    @Override
    public EkfacInfluence fit(DataSource trainingData) {
        if (trainingData == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        this.layers = estimator.estimate(trainingData);
        return this;
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
        for (EkfacEstimator.Block b : estimator.blocks()) {
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
            for (EkfacEstimator.Block b : estimator.blocks()) {
                Tensor f = factors.get(b.layerIndex());
                Tensor result;
                if (mode == InfluenceMode.UP) {
                    Tensor layerGradients = EkfacBasis.columns(gradients, b.offset(), b.numParameters());
                    result = DenseLinalg.timesTransposed(f, layerGradients);
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
                        Tensor scaledTest = scaleColumns(kTest.get(l), inverse);
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

    /** Per layer, the rows of {@code flat [m, p]} in the layer's eigenbasis, {@code [m, p_l]}. */
    private List<Tensor> rotate(Tensor flat, TensorScope scope) {
        List<Tensor> out = new ArrayList<>(layers.size());
        for (EkfacLayer layer : layers) {
            out.add(new EkfacBasis(layer, model.spec().dtype(), scope).toEigenbasis(flat));
        }
        return out;
    }

    /** Per layer, {@code H_l⁻¹} applied to the layer's part of every row of {@code flat [m, p]}. */
    private List<Tensor> solveByLayer(Tensor flat, double lambda, TensorScope scope) {
        List<Tensor> out = new ArrayList<>(layers.size());
        for (EkfacLayer layer : layers) {
            EkfacBasis basis = new EkfacBasis(layer, model.spec().dtype(), scope);
            Tensor k = basis.toEigenbasis(flat);
            out.add(basis.fromEigenbasis(scaleColumns(k, inverseDiagonal(layer, lambda, model.spec().dtype(), scope))));
        }
        return out;
    }

    /**
     * Below this ratio of the smallest to the largest eigenvalue {@code d + λ} of a block, the block
     * counts as numerically singular (condition number above 10^13: in float64 its smallest
     * eigenvalues are rounding noise of the eigendecomposition, e.g. +1e-17 for a null direction).
     */
    private static final double SINGULAR_RATIO = 1e-13;

    /**
     * @return {@code 1/(d + λ)} as a backend vector
     * @throws InversionException ({@link InversionException.Reason#SINGULAR}) if some {@code d + λ} is
     *     not positive or the block's condition number exceeds 10^13, with the λ that fixes it
     */
    private static Tensor inverseDiagonal(EkfacLayer layer, double lambda, DType dtype, TensorScope scope) {
        double[] d = layer.diagonal();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int q = 0; q < d.length; q++) {
            min = Math.min(min, d[q] + lambda);
            max = Math.max(max, d[q] + lambda);
            d[q] = 1.0 / (d[q] + lambda);
        }
        if (!(min > 0) || !(min > SINGULAR_RATIO * max)) {
            double suggested = Math.max(1e-10, 1e-8 * Math.abs(max));
            throw new InversionException(InversionException.Reason.SINGULAR,
                    "EK-FAC curvature of layer " + layer.layerIndex() + " (" + layer.kind()
                    + ") is numerically singular: its smallest eigenvalue d + λ = " + min + " against the largest "
                    + max + " (condition number above 1e13, or not positive: a singular Kronecker factor, e.g. a"
                    + " constant or duplicated input feature or an id that never occurs); raise the Hessian"
                    + " regularization λ to at least " + String.format(java.util.Locale.ROOT, "%.1e", suggested));
        }
        return scope.fromArray(d, dtype, d.length);
    }

    /** {@code k ∘ v} with v broadcast over rows: {@code (kᵀ).scaleRows(v)ᵀ}. */
    private static Tensor scaleColumns(Tensor k, Tensor v) {
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
