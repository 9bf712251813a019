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
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Influence functions with the eigenvalue-corrected Kronecker-factored curvature (pyDVL's
 * {@code EkfacInfluence}; George et al. 2018, Martens and Grosse 2015), for models made of Dense
 * layers with softmax cross-entropy.
 *
 * <p><b>Curvature.</b> For every Dense layer l, with augmented inputs {@code ã = [a, 1]} and output
 * gradients δ ({@link TwiceDifferentiable#denseLayerFactors}), {@link #fit} estimates
 * {@code A = (1/n) Σ ã ãᵀ} and {@code G} (an expectation of {@code δ δᵀ} over the model's predictive
 * distribution, see {@link EkfacCurvature}), their eigendecompositions {@code A = Q_A Λ_A Q_Aᵀ},
 * {@code G = Q_G Λ_G Q_Gᵀ} (EJML, symmetric QR), and the eigenvalues {@code Λ_G ⊗ Λ_A} or, with
 * {@link EkfacOptions#updateDiagonal()}, their refit from per-sample gradients projected on the
 * eigenbasis. The curvature is block diagonal over layers:
 * {@code H_l ≈ (Q_G ⊗ Q_A) diag(d_l) (Q_G ⊗ Q_A)ᵀ}, and
 * {@code H_l⁻¹ v = (Q_G ⊗ Q_A) diag(1/(d_l + λ)) (Q_G ⊗ Q_A)ᵀ v}. It approximates the Gauss-Newton
 * (= Fisher) matrix of the mean loss, not the full Hessian: no negative curvature, no cross-layer
 * terms.
 *
 * <p><b>Definition, shapes and sign</b> are those of {@link InfluenceFunctionModel} with this
 * approximate H: UP influences {@code [m, n]}, positive for proponents; PERTURBATION influences
 * {@code [m, n, inputDim]} (pyDVL's EK-FAC has no perturbation mode; here the combined factors are
 * contracted with {@link TwiceDifferentiable#mixedGradientProducts}). Per-layer variants return
 * maps from the Dense layer's index in {@code ModelSpec.layers()} to the layer's share; the
 * shares sum to the total. Per-layer factors are {@code [m, out·(in+1)]} in the layer's own flat
 * order (W row-major, then b).
 *
 * <p><b>Cost.</b> {@link #fit} makes one pass over the data with one backward pass per class
 * (two passes with the diagonal refit); a solve is a few layer-sized matrix products per layer.
 * All heavy products run on the backend; only layer-sized matrices come to the host.
 *
 * <p>Holds no native memory between calls. Not thread-safe.
 */
public final class EkfacInfluence implements InfluenceFunctionModel {

    private static final Logger LOG = LoggerFactory.getLogger(EkfacInfluence.class);

    /** How the message for a backend without mixed derivatives ends. */
    private static final String MIXED_ADVICE = "use InfluenceMode.UP";

    private final TwiceDifferentiable model;
    private final EkfacOptions options;
    private final List<int[]> layouts;
    private List<EkfacLayer> layers;

    /**
     * @param model   a trained model of Dense layers with softmax cross-entropy, on a backend with
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
        if (model.spec().isGraph()) {
            throw new IllegalArgumentException("model: EK-FAC factors Dense layers only, and layer graphs (Conv2d,"
                    + " Embedding) are outside it; use method cg (or arnoldi, direct) with curvature"
                    + " gauss-newton, the curvature EK-FAC approximates");
        }
        if (!model.backend().capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS)) {
            throw new IllegalArgumentException("model: backend " + model.backend().name()
                    + " does not provide per-layer gradient factors (capability DENSE_LAYER_FACTORS),"
                    + " which EK-FAC needs; use a backend that does (djl-pytorch)");
        }
        this.model = model;
        this.options = options;
        this.layouts = layouts(model.spec());
    }

    /** @return per Dense layer {layerIndex, offset, in, out} */
    private static List<int[]> layouts(ModelSpec spec) {
        List<int[]> out = new ArrayList<>();
        List<ParameterInfo> infos = spec.parameterLayout();
        for (int k = 0; k < infos.size(); k += 2) {
            ParameterInfo w = infos.get(k);
            out.add(new int[] {w.layerIndex(), w.offset(), (int) w.shape()[1], (int) w.shape()[0]});
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
     * Estimates the Kronecker factors on {@code trainingData}, decomposes them and, if asked, refits
     * the eigenvalues. Refitting replaces the previous representation.
     *
     * @throws IllegalArgumentException naming {@code trainingData} if it is null or does not fit the model
     */
    @Override
    public EkfacInfluence fit(DataSource trainingData) {
        if (trainingData == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        long start = System.nanoTime();
        int numLayers = layouts.size();
        double[][] aSum = new double[numLayers][];
        double[][] gSum = new double[numLayers][];
        for (int l = 0; l < numLayers; l++) {
            int sa = layouts.get(l)[2] + 1;
            int sg = layouts.get(l)[3];
            aSum[l] = new double[sa * sa];
            gSum[l] = new double[sg * sg];
        }
        long count = pass(trainingData, (chunk, scope, inputs, gradients) -> {
            for (int l = 0; l < numLayers; l++) {
                addInputFactor(aSum[l], inputs.get(l), scope);
                Tensor d = gradients.get(l);
                try (Tensor dt = d.transpose(); Tensor gg = dt.matmul(d)) {
                    add(gSum[l], gg.toDoubleArray());
                }
            }
        });
        List<EkfacLayer> fitted = new ArrayList<>(numLayers);
        for (int l = 0; l < numLayers; l++) {
            int[] lay = layouts.get(l);
            int sa = lay[2] + 1;
            int sg = lay[3];
            double[] a = scaled(aSum[l], 1.0 / count);
            double[] g = scaled(gSum[l], 1.0 / count);
            double[][] ea = eigh(a, sa);
            double[][] eg = eigh(g, sg);
            double[] diag = new double[sg * sa];
            for (int o = 0; o < sg; o++) {
                for (int j = 0; j < sa; j++) {
                    diag[o * sa + j] = eg[0][o] * ea[0][j];
                }
            }
            fitted.add(new EkfacLayer(lay[0], lay[1], lay[2], lay[3], a, g, ea[0], ea[1], eg[0], eg[1], diag));
        }
        if (options.updateDiagonal()) {
            fitted = refitDiagonal(trainingData, fitted);
        }
        this.layers = List.copyOf(fitted);
        LOG.info("fitted EK-FAC ({} layers, {}, diagonal refit {}) on {} samples in {} ms", numLayers,
                options.curvature(), options.updateDiagonal(), count, (System.nanoTime() - start) / 1_000_000);
        return this;
    }

    /** What one chunk contributes: layer inputs and the per-class (or pyDVL-combined) output gradients. */
    @FunctionalInterface
    private interface ChunkConsumer {
        void accept(Batch chunk, TensorScope scope, List<Tensor> inputs, List<Tensor> gradients);
    }

    /**
     * One pass over the data. For each chunk and layer, the consumer receives the layer inputs
     * {@code [n, in]} and the weighted output gradients D: for FISHER the blocks {@code √p_c ∘ δ_c}
     * of all classes c stacked, {@code [C·n, out]} (rows ordered (c, i)), for PYDVL the single
     * {@code Σ_c √p_c ∘ δ_c}, {@code [n, out]}. Hence {@code DᵀD} is n times the chunk's share of
     * the G estimate of {@link EkfacCurvature}.
     *
     * @return the number of samples
     */
    private long pass(DataSource data, ChunkConsumer consumer) {
        ModelSpec spec = model.spec();
        if (data.numFeatures() != spec.inputDim()) {
            throw new IllegalArgumentException("trainingData: has " + data.numFeatures() + " features but the model"
                    + " expects " + spec.inputDim());
        }
        int classes = spec.outputDim();
        int numLayers = layouts.size();
        long count = 0;
        Iterator<Batch> it = data.batches(options.batchSize());
        while (it.hasNext()) {
            Batch chunk = it.next();
            spec.validate(chunk, "trainingData");
            int n = chunk.size();
            count += n;
            try (TensorScope scope = model.backend().newScope()) {
                double[] probs = probabilities(chunk, scope);
                List<Tensor> inputs = new ArrayList<>(numLayers);
                List<List<Tensor>> perClass = new ArrayList<>(numLayers);
                for (int l = 0; l < numLayers; l++) {
                    perClass.add(new ArrayList<>());
                }
                for (int c = 0; c < classes; c++) {
                    double[] labels = new double[n];
                    Arrays.fill(labels, c);
                    double[] w = new double[n];
                    for (int i = 0; i < n; i++) {
                        w[i] = Math.sqrt(probs[i * classes + c]);
                    }
                    Tensor weights = scope.fromArray(w, model.spec().dtype(), n);
                    List<DenseLayerFactors> factors = model.denseLayerFactors(
                            new Batch(chunk.x(), chunk.numFeatures(), labels, 1), scope);
                    for (int l = 0; l < numLayers; l++) {
                        DenseLayerFactors f = factors.get(l);
                        if (c == 0) {
                            inputs.add(f.inputs());
                        } else {
                            f.inputs().close();
                        }
                        Tensor d = f.outputGradients().scaleRows(weights);
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
                    weights.close();
                }
                List<Tensor> gradients = new ArrayList<>(numLayers);
                for (List<Tensor> list : perClass) {
                    gradients.add(InfluenceProducts.stack(list));
                }
                consumer.accept(chunk, scope, inputs, gradients);
            }
        }
        return count;
    }

    /** Softmax of the logits on the host, {@code [n, C]} row-major. */
    private double[] probabilities(Batch chunk, TensorScope scope) {
        int classes = model.spec().outputDim();
        double[] z;
        try (Tensor logits = model.forward(chunk, scope)) {
            z = logits.toDoubleArray();
        }
        return Loss.softmaxRows(z, classes);
    }

    /** Adds {@code Σ ã ãᵀ} of a chunk ({@code ã = [a, 1]}) to {@code target [(in+1)²]}. */
    private void addInputFactor(double[] target, Tensor a, TensorScope scope) {
        int n = (int) a.shape()[0];
        int in = (int) a.shape()[1];
        int sa = in + 1;
        double[] ata;
        double[] colSums;
        try (Tensor at = a.transpose(); Tensor ones = scope.fromArray(filled(n, 1.0), a.dtype(), n, 1)) {
            try (Tensor p = at.matmul(a)) {
                ata = p.toDoubleArray();
            }
            try (Tensor s = at.matmul(ones)) {
                colSums = s.toDoubleArray();
            }
        }
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < in; c++) {
                target[r * sa + c] += ata[r * in + c];
            }
            target[r * sa + in] += colSums[r];
            target[in * sa + r] += colSums[r];
        }
        target[in * sa + in] += n;
    }

    /** The EK-FAC eigenvalue correction: {@code d[o,j] = (1/n) Σ_i Σ_blocks ((D Q_G)_o)² ((ã_i Q_A)_j)²}. */
    private List<EkfacLayer> refitDiagonal(DataSource data, List<EkfacLayer> fitted) {
        int numLayers = fitted.size();
        double[][] diag = new double[numLayers][];
        for (int l = 0; l < numLayers; l++) {
            diag[l] = new double[fitted.get(l).numParameters()];
        }
        long count = pass(data, (chunk, scope, inputs, gradients) -> {
            for (int l = 0; l < numLayers; l++) {
                try (TensorScope s = scope.newChild()) {
                    LayerTensors lt = new LayerTensors(fitted.get(l), model.spec().dtype(), s);
                    Tensor a = inputs.get(l);
                    int n = (int) a.shape()[0];
                    Tensor ones = s.fromArray(filled(n, 1.0), a.dtype(), n, 1);
                    Tensor aKfe = a.matmul(lt.qaTop).add(ones.matmul(lt.qaLast));
                    Tensor aSq = aKfe.mul(aKfe);
                    // Σ over the stacked blocks (classes) of ((D Q_G)²), then one product with (ã Q_A)²
                    Tensor d = gradients.get(l);
                    int blocks = (int) (d.shape()[0] / n);
                    int out = (int) d.shape()[1];
                    Tensor gKfe = d.matmul(lt.qg);
                    Tensor squares = gKfe.mul(gKfe);
                    Tensor summed = blocks == 1 ? squares : s.fromArray(filled(blocks, 1.0), a.dtype(), 1, blocks)
                            .matmul(squares.reshape(blocks, (long) n * out)).reshape(n, out);
                    add(diag[l], summed.transpose().matmul(aSq).toDoubleArray());
                }
            }
        });
        List<EkfacLayer> out = new ArrayList<>(numLayers);
        for (int l = 0; l < numLayers; l++) {
            out.add(fitted.get(l).withDiagonal(scaled(diag[l], 1.0 / count)));
        }
        return out;
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
            Tensor gradients = model.perSampleGradients(batch, work);
            return joinLayers(solveByLayer(gradients, options.hessianRegularization(), work)).moveTo(scope);
        }
    }

    /**
     * The factors {@code H_l⁻¹ ∇θ_l ℓ} of each layer separately (pyDVL's
     * {@code influence_factors_by_layer}).
     *
     * @return Dense layer index → {@code [m, out·(in+1)]}, in layer order, tensors owned by {@code scope}
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
     * @return Dense layer index → {@code [m, n]} (UP) or {@code [m, n, inputDim]} (PERTURBATION)
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
     * @param factors Dense layer index → {@code [m, out·(in+1)]}, as from {@link #influenceFactorsByLayer};
     *                every Dense layer must be present
     * @return Dense layer index → {@code [m, n]} (UP) or {@code [m, n, inputDim]} (PERTURBATION)
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
        for (int[] lay : layouts) {
            Tensor f = factors.get(lay[0]);
            int pl = lay[3] * (lay[2] + 1);
            if (f == null || f.rank() != 2 || f.shape()[1] != pl || (m >= 0 && f.shape()[0] != m)) {
                throw new IllegalArgumentException("factors: layer " + lay[0] + " must map to [m, " + pl + "] (m the"
                        + " same for all layers), got " + (f == null ? "nothing" : Arrays.toString(f.shape()))
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
            for (int[] lay : layouts) {
                Tensor f = factors.get(lay[0]);
                Tensor result;
                if (mode == InfluenceMode.UP) {
                    Tensor layerGradients = layerColumns(gradients, lay);
                    result = f.matmul(layerGradients.transpose());
                } else {
                    result = InfluenceProducts.perturbation(model, embed(f, lay, m, work), train, options.batchSize(),
                            work);
                }
                out.put(lay[0], result.moveTo(scope));
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
     * @return λ → (Dense layer index → {@code [m, n]}), in the given order of λ
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

    /** The eigenvectors of one layer as backend matrices. */
    private static final class LayerTensors {
        final Tensor qaTop;    // Q_A[:in, :]   [in, in+1]
        final Tensor qaLast;   // Q_A[in, :]    [1, in+1]
        final Tensor qaTopT;   // [in+1, in]
        final Tensor qaLastT;  // [in+1, 1]
        final Tensor qg;       // Q_G           [out, out]
        final Tensor qgT;      // Q_Gᵀ

        LayerTensors(EkfacLayer layer, DType dtype, TensorScope scope) {
            int in = layer.inFeatures();
            int sa = in + 1;
            int sg = layer.outFeatures();
            double[] qa = layer.eigenvectorsA();
            qaTop = scope.fromArray(Arrays.copyOfRange(qa, 0, in * sa), dtype, in, sa);
            qaLast = scope.fromArray(Arrays.copyOfRange(qa, in * sa, sa * sa), dtype, 1, sa);
            qaTopT = qaTop.transpose();
            qaLastT = qaLast.transpose();
            qg = scope.fromArray(layer.eigenvectorsG(), dtype, sg, sg);
            qgT = qg.transpose();
        }
    }

    /** Per layer, the rows of {@code flat [m, p]} in the eigenbasis, {@code [m, out·(in+1)]} (index o·(in+1)+j). */
    private List<Tensor> rotate(Tensor flat, TensorScope scope) {
        List<Tensor> out = new ArrayList<>(layers.size());
        for (int l = 0; l < layers.size(); l++) {
            EkfacLayer layer = layers.get(l);
            LayerTensors lt = new LayerTensors(layer, model.spec().dtype(), scope);
            out.add(toEigenbasis(flat, layer, lt));
        }
        return out;
    }

    /** {@code Q_Gᵀ [W|b] Q_A} for every row of {@code flat [m, p]}, as {@code [m, out·(in+1)]}. */
    private static Tensor toEigenbasis(Tensor flat, EkfacLayer layer, LayerTensors lt) {
        int m = (int) flat.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        int off = layer.parameterOffset();
        Tensor t = flat.transpose();
        Tensor w = t.rows(off, off + (long) out * in).transpose().reshape((long) m * out, in);
        Tensor b = t.rows(off + (long) out * in, off + (long) out * in + out).transpose().reshape((long) m * out, 1);
        // x[(s,o), j] = (V_s Q_A)[o, j]
        Tensor x = w.matmul(lt.qaTop).add(b.matmul(lt.qaLast));
        // y[(j,s), o'] = (Q_Gᵀ V_s Q_A)[o', j]
        Tensor y = x.transpose().reshape((long) (in + 1) * m, out).matmul(lt.qg);
        return y.reshape(in + 1, (long) m * out).transpose().reshape(m, (long) out * (in + 1));
    }

    /** The inverse of {@link #toEigenbasis}: {@code Q_G K Q_Aᵀ} in the layer flat order {@code [m, out·(in+1)]}. */
    private static Tensor fromEigenbasis(Tensor k, EkfacLayer layer, LayerTensors lt) {
        int m = (int) k.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        Tensor z = k.reshape((long) m * out, in + 1).transpose().reshape((long) (in + 1) * m, out).matmul(lt.qgT);
        // r[(s,o), j] = (Q_G K_s)[o, j]
        Tensor r = z.reshape(in + 1, (long) m * out).transpose();
        Tensor w = r.matmul(lt.qaTopT).reshape(m, (long) out * in);
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
            throw new InversionException("EK-FAC curvature of Dense layer " + layer.layerIndex() + " has an eigenvalue "
                    + "d + λ = " + min + " <= 0 (a singular Kronecker factor, e.g. a constant input feature); "
                    + "raise the Hessian regularization λ (e.g. 0.01)");
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

    /** Columns {@code [off, off + p_l)} of {@code flat [n, p]}. */
    private static Tensor layerColumns(Tensor flat, int[] lay) {
        int pl = lay[3] * (lay[2] + 1);
        return flat.transpose().rows(lay[1], lay[1] + pl).transpose();
    }

    /** A layer's factors {@code [m, p_l]} placed into zeros {@code [m, p]}. */
    private Tensor embed(Tensor layerFactors, int[] lay, long m, TensorScope scope) {
        int p = model.numParameters();
        int pl = lay[3] * (lay[2] + 1);
        DType dtype = layerFactors.dtype();
        Tensor stacked = layerFactors.transpose();
        if (lay[1] > 0) {
            stacked = scope.zeros(dtype, lay[1], m).concat(stacked);
        }
        if (lay[1] + pl < p) {
            stacked = stacked.concat(scope.zeros(dtype, p - lay[1] - pl, m));
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
            throw new InversionException("EK-FAC: the eigendecomposition of a " + size + "x" + size
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
