package org.influence4j.api;

import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.model.ModelSpec;

/**
 * A model with its loss, as the solvers see it (pyDVL's name): flat parameters, the mean loss
 * over a batch and its first and second derivatives with respect to the parameters.
 *
 * <p><b>Conventions.</b> θ is the flat parameter vector of length {@code p = numParameters()} in
 * PyTorch {@code named_parameters()} order. For a batch of n samples the loss is the
 * <em>mean</em> {@code L(θ) = (1/n) Σ_i ℓ(y_i, f_θ(x_i))} (pyDVL's convention; Captum sums
 * instead). Per-sample quantities are rows indexed like the batch. No regularization term is
 * included: Hessian regularization λ is added by the calculators.
 *
 * <p><b>Tensors.</b> Every returned tensor belongs to the {@code scope} argument. Input tensors
 * may belong to any scope of the same backend.
 *
 * <p>Instances hold native memory: close them. Unless {@link #isThreadSafe()} is true, one
 * instance must be used by one thread at a time.
 */
public interface TwiceDifferentiable extends AutoCloseable {

    /** @return the description this model was built from */
    ModelSpec spec();

    /** @return the backend that runs this model */
    Backend backend();

    /**
     * The names and shapes of θ's parts in θ order: PyTorch's {@code named_parameters()}, so a
     * {@code state_dict} (a parameter file, a checkpoint) loads by name. The default is the spec's
     * ({@link ModelSpec#parameterLayout()}); a model whose spec describes only its interface (an
     * imported engine model) returns its own.
     *
     * @return the parts, offsets and sizes summing to {@link #numParameters()}
     */
    default java.util.List<org.influence4j.api.model.ParameterInfo> parameterLayout() {
        return spec().parameterLayout();
    }

    /** @return p, the number of scalar parameters */
    int numParameters();

    /** @return a copy of the flat parameters θ (length p) */
    double[] parameters();

    /**
     * Replaces θ (e.g. to load a checkpoint).
     *
     * @throws IllegalArgumentException if the length is not p or a value is NaN/Inf
     */
    void setParameters(double[] parameters);

    /**
     * Model outputs (logits for classification losses) for a batch.
     *
     * @return a tensor {@code [n, outputDim]}
     */
    Tensor forward(Batch batch, TensorScope scope);

    /** @return the mean loss L(θ) over the batch */
    double loss(Batch batch);

    /** @return the per-sample losses {@code [n]} */
    Tensor perSampleLosses(Batch batch, TensorScope scope);

    /** @return ∇θ L, the gradient of the mean loss, shape {@code [p]} */
    Tensor gradient(Batch batch, TensorScope scope);

    /**
     * Per-sample gradients from one batched pass.
     *
     * @return G with {@code G[i,:] = ∇θ ℓ(y_i, f_θ(x_i))}, shape {@code [n, p]}; their mean over rows
     *     equals {@link #gradient}
     */
    Tensor perSampleGradients(Batch batch, TensorScope scope);

    /**
     * Exact Hessian-vector product of the mean loss.
     *
     * @param v a vector {@code [p]}
     * @return {@code ∇²θ L · v}, shape {@code [p]}
     */
    Tensor hvp(Batch batch, Tensor v, TensorScope scope);

    /**
     * Exact Hessian-vector products for a block of k vectors (rows of {@code vs}).
     *
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code ∇²θ L · vs[i,:]}
     */
    Tensor hvpBlock(Batch batch, Tensor vs, TensorScope scope);

    /**
     * The full Hessian of the mean loss, for small p.
     *
     * @return a symmetric matrix {@code [p, p]}
     */
    Tensor hessian(Batch batch, TensorScope scope);

    /**
     * Per-sample inputs and output gradients of every Dense layer, from one batched pass: the
     * factors of the per-sample gradients (for Kronecker-factored curvature, TracInCPFast and
     * low-memory gradient products).
     *
     * <p>For Dense layer l computing {@code z = W a + b}: {@code inputs} are the per-sample layer
     * inputs a, shape {@code [n, in]}, and {@code outputGradients} are δ = ∂ℓ_i/∂z of the
     * <em>per-sample</em> loss ℓ_i (not divided by n), shape {@code [n, out]}. Hence the per-sample
     * gradient of W is the outer product {@code δ_iᵀ a_i} ({@code [out, in]}) and that of b is δ_i.
     *
     * @return one entry per Dense layer, in layer order, tensors owned by {@code scope}
     * @throws UnsupportedOperationException if the backend lacks
     *     {@link BackendCapability#DENSE_LAYER_FACTORS}
     */
    default java.util.List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        throw new UnsupportedOperationException("backend " + backend().name()
                + " does not provide per-layer gradient factors (capability DENSE_LAYER_FACTORS)");
    }

    /**
     * Per-sample inputs and output gradients of every weight layer (Dense, Conv2d, Embedding), from
     * one batched pass: the factors {@code Σ_t δ_t a_tᵀ} of the per-sample gradients that
     * Kronecker-factored curvature needs ({@link LayerGradientFactors} states rows, layouts and
     * gradients). Parameters of other layers (normalisations) have no entry.
     *
     * <p>The default serves models made of Dense layers with biases: {@link #denseLayerFactors}, T = 1.
     *
     * @return one entry per weight layer, in layer order, tensors owned by {@code scope}
     * @throws UnsupportedOperationException if the backend lacks
     *     {@link BackendCapability#DENSE_LAYER_FACTORS}
     */
    default java.util.List<LayerGradientFactors> layerGradientFactors(Batch batch, TensorScope scope) {
        return denseLayerFactors(batch, scope).stream().map(LayerGradientFactors::of).toList();
    }

    /**
     * The layer factors of the true Fisher of a softmax cross-entropy model under the labels
     * {@code [fromClass, toClass)} at once: what {@link #layerGradientFactors} gives for {@code batch}
     * repeated once per class, every copy labelled with its class ({@code batch}'s own labels are not
     * read), with the output gradients of sample i under label c multiplied by {@code √p_c(x_i)}, the
     * model's own probability of c. Then {@code Σ DᵀD} over the classes is n·T times the chunk's
     * Fisher estimate {@code E_{c∼p}[δ_c δ_cᵀ]} of a layer's output-gradient factor (EK-FAC, KFAC).
     * {@code outputGradients} has {@code (toClass − fromClass)·n·T} rows ordered (class c, sample i,
     * position t); {@code inputs} and {@code ids}, the same under every label, have the first copy's
     * {@code n·T} rows only.
     *
     * <p>The default calls {@link #layerGradientFactors} on the repeated batch and {@link #forward} for
     * the probabilities, and scales the rows; a backend may run one forward pass and back-propagate the
     * stacked, weighted output gradients {@code √p_ic (p_i − e_c)} (back-propagation is linear in them).
     *
     * @return one entry per weight layer, in layer order, tensors owned by {@code scope}
     * @throws IllegalArgumentException if the loss is not softmax cross-entropy or not
     *     {@code 0 ≤ fromClass < toClass ≤ C}
     */
    default java.util.List<LayerGradientFactors> fisherLayerGradientFactors(Batch batch, int fromClass, int toClass,
                                                                            TensorScope scope) {
        LayerGradientFactors.requireClasses(spec(), fromClass, toClass);
        int n = batch.size();
        int copies = toClass - fromClass;
        int classes = spec().outputDim();
        double[] labels = new double[Math.multiplyExact(copies, n)];
        for (int c = 0; c < copies; c++) {
            java.util.Arrays.fill(labels, c * n, (c + 1) * n, fromClass + c);
        }
        Batch repeated = new Batch(copies == 1 ? batch.features() : batch.features().repeat(copies), labels, 1);
        double[] probabilities;
        try (Tensor logits = forward(batch, scope)) {
            probabilities = org.influence4j.api.model.Loss.softmaxRows(logits.toDoubleArray(), classes);
        }
        java.util.List<LayerGradientFactors> out = new java.util.ArrayList<>();
        for (LayerGradientFactors f : layerGradientFactors(repeated, scope)) {
            int t = f.positions();
            int rows = n * t;
            double[] w = new double[copies * rows];
            for (int r = 0; r < w.length; r++) {
                w[r] = Math.sqrt(probabilities[(r % rows / t) * classes + fromClass + r / rows]);
            }
            Tensor weighted;
            try (Tensor weights = scope.fromArray(w, spec().dtype(), w.length); Tensor d = f.outputGradients()) {
                weighted = d.scaleRows(weights);
            }
            out.add((copies == 1 ? f : f.withFirstInputRows(rows)).withOutputGradients(weighted));
        }
        return java.util.List.copyOf(out);
    }

    /**
     * The layer factors of pyDVL's pooled estimate of the output-gradient factor of a softmax
     * cross-entropy model: one output-gradient row per sample and position,
     * {@code d_i = Σ_c √p_c(x_i) δ_ic} over all C classes, δ_ic the output gradient under label c
     * ({@code batch}'s own labels are not read). That is the sum of the class blocks of
     * {@link #fisherLayerGradientFactors} over {@code [0, C)}, and {@code −d_i} is the gradient of
     * {@code Σ_c √p_c log p_c} with the weights √p held constant (pyDVL's
     * {@code empirical_cross_entropy_loss_fn}). {@code d_i d_iᵀ} holds the cross terms of different
     * classes, so {@code Σ DᵀD} is not the Fisher estimate. {@code inputs}, {@code ids} and
     * {@code outputGradients} have {@code n·T} rows ordered (sample i, position t).
     *
     * <p>The default sums the class blocks of {@link #fisherLayerGradientFactors}, taking the classes
     * in groups of {@link LayerGradientFactors#classGroup}; a backend may back-propagate the pooled
     * output gradient {@code Σ_c √p_ic (p_i − e_c) = (Σ_c √p_ic) p_i − √p_i} once (back-propagation is
     * linear in it), the cost of one backward pass instead of C.
     *
     * @return one entry per weight layer, in layer order, tensors owned by {@code scope}
     * @throws IllegalArgumentException if the loss is not softmax cross-entropy
     */
    default java.util.List<LayerGradientFactors> pooledFisherLayerGradientFactors(Batch batch, TensorScope scope) {
        int classes = spec().outputDim();
        LayerGradientFactors.requireClasses(spec(), 0, classes);
        int group = LayerGradientFactors.classGroup(batch, classes);
        int n = batch.size();
        java.util.List<LayerGradientFactors> out = new java.util.ArrayList<>();
        for (int c0 = 0; c0 < classes; c0 += group) {
            int c1 = Math.min(classes, c0 + group);
            java.util.List<LayerGradientFactors> factors = fisherLayerGradientFactors(batch, c0, c1, scope);
            for (int l = 0; l < factors.size(); l++) {
                LayerGradientFactors f = factors.get(l);
                long rows = (long) n * f.positions();
                Tensor sum = c0 == 0 ? null : out.get(l).outputGradients();
                try (Tensor d = f.outputGradients()) {
                    for (int k = 0; k < c1 - c0; k++) {
                        try (Tensor block = d.rows(k * rows, (k + 1) * rows)) {
                            Tensor next = sum == null ? block.scale(1) : sum.add(block);
                            if (sum != null) {
                                sum.close();
                            }
                            sum = next;
                        }
                    }
                }
                if (c0 == 0) {
                    out.add(f.withOutputGradients(sum));
                } else {
                    if (f.inputs() != null) {
                        f.inputs().close();
                    }
                    out.set(l, out.get(l).withOutputGradients(sum));
                }
            }
        }
        return java.util.List.copyOf(out);
    }

    /**
     * Mixed second derivatives ∇x∇θℓ contracted with parameter-space vectors, for
     * perturbation-mode influences.
     *
     * @param vs a matrix {@code [k, p]}
     * @return {@code [k, n, inputDim]} with {@code out[j, i, :] = ∇_{x_i} ⟨vs[j,:], ∇θ ℓ(x_i, y_i)⟩}
     *     (per-sample loss, not divided by n), owned by {@code scope}
     * @throws UnsupportedOperationException if the backend lacks
     *     {@link BackendCapability#MIXED_DERIVATIVES}
     */
    default Tensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        throw new UnsupportedOperationException("backend " + backend().name()
                + " does not provide mixed derivatives ∇x∇θ (capability MIXED_DERIVATIVES)");
    }

    /**
     * Gauss-Newton-vector products of the mean loss for a block of directions:
     * {@code G v = (1/n) Σ_i J_iᵀ H_ℓ,i J_i v}, where {@code J_i = ∂f(x_i)/∂θ} is the Jacobian of the
     * outputs and {@code H_ℓ,i} the Hessian of the per-sample loss with respect to the outputs. G is
     * positive semi-definite (for the convex losses here), so solvers converge where the Hessian has
     * negative curvature; exact, not an approximation of G.
     *
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code G · vs[i,:]}, owned by {@code scope}
     * @throws UnsupportedOperationException if the model lacks {@link BackendCapability#GAUSS_NEWTON}
     */
    default Tensor gaussNewtonBlock(Batch batch, Tensor vs, TensorScope scope) {
        throw withoutGaussNewton();
    }

    /**
     * Empirical-Fisher-vector products of the batch's mean loss for a block of directions:
     * {@code F v = (1/n) Σ_i g_i (g_iᵀ v)} with {@code g_i = ∇θ ℓ_i} ({@link #perSampleGradients}),
     * pyDVL 0.10's "Gauss-Newton" product. Computed as {@code (vs Gᵀ) G / n} from the batch's
     * per-sample gradients G {@code [n, p]}, in slices of samples whose gradients take at most
     * {@link org.influence4j.api.internal.GradientChunks#GRADIENT_CHUNK_BYTES} (one sample at least).
     * A layer graph with Embedding tables takes the tables' looked-up rows instead of their
     * {@code [n, V·d]} gradients.
     *
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code F · vs[i,:]}, owned by {@code scope}
     * @throws IllegalArgumentException naming {@code vs} if it is not a matrix {@code [k, p]}
     */
    default Tensor empiricalFisherBlock(Batch batch, Tensor vs, TensorScope scope) {
        if (KeptGradients.requireRows(vs, numParameters()) == 0) {
            return scope.fromArray(new double[0], vs.dtype(), 0, numParameters());
        }
        return org.influence4j.api.internal.GradientChunks.meanOverSlices(batch,
                org.influence4j.api.internal.GradientChunks.bounded(this, batch.size()), (part, work) -> {
                    try (Tensor g = perSampleGradients(part, work); Tensor gt = g.transpose();
                         Tensor projected = vs.matmul(gt)) {
                        return projected.matmul(g);
                    }
                }, scope);
    }

    /**
     * {@link #hvpBlock}, {@link #gaussNewtonBlock} or {@link #empiricalFisherBlock} of the batch, as
     * {@code curvature} says.
     *
     * @param vs a matrix {@code [k, p]}
     * @return a matrix {@code [k, p]} whose row i is {@code C · vs[i,:]}, C the curvature of the
     *     batch's mean loss, owned by {@code scope}
     * @throws IllegalArgumentException naming {@code curvature} if it is null
     * @throws UnsupportedOperationException for the Gauss-Newton matrix if the model lacks
     *     {@link BackendCapability#GAUSS_NEWTON}
     */
    default Tensor curvatureBlock(Batch batch, Curvature curvature, Tensor vs, TensorScope scope) {
        if (curvature == null) {
            throw new IllegalArgumentException("curvature: must not be null; use " + Curvature.VALUES);
        }
        return switch (curvature) {
            case HESSIAN -> hvpBlock(batch, vs, scope);
            case GAUSS_NEWTON -> gaussNewtonBlock(batch, vs, scope);
            case EMPIRICAL_FISHER -> empiricalFisherBlock(batch, vs, scope);
        };
    }

    /** @return the exception of a model that lacks {@link BackendCapability#GAUSS_NEWTON} */
    private UnsupportedOperationException withoutGaussNewton() {
        return new UnsupportedOperationException("model " + this + " on backend " + backend().name()
                + " does not provide Gauss-Newton products (capability GAUSS_NEWTON)");
    }

    /**
     * Keeps what {@link #curvatureBlock} recomputes on every call for {@code batch}
     * ({@link KeptCurvature}), for operators that apply the curvature of the same batches many times
     * at fixed θ. For the empirical Fisher the default keeps the batch's per-sample gradients G
     * {@code [n, p]} (n·p values; each product is then {@code (vs Gᵀ) G / n}, two matrix products);
     * for the Hessian and the Gauss-Newton matrix it keeps nothing: each product is
     * {@link #curvatureBlock} of the batch at the model's current parameters. Layer graphs on the DJL
     * engines keep their recorded passes for those two.
     *
     * @throws IllegalArgumentException naming {@code batch} if it does not fit the model, or
     *     {@code curvature} if it is null
     * @throws UnsupportedOperationException for the Gauss-Newton matrix if the model lacks
     *     {@link BackendCapability#GAUSS_NEWTON}
     */
    default KeptCurvature keepCurvature(Batch batch, Curvature curvature) {
        if (curvature == null) {
            throw new IllegalArgumentException("curvature: must not be null; use " + Curvature.VALUES);
        }
        if (curvature == Curvature.GAUSS_NEWTON && !backend().capabilities().contains(BackendCapability.GAUSS_NEWTON)) {
            throw withoutGaussNewton();
        }
        spec().validate(batch, "batch");
        if (curvature == Curvature.EMPIRICAL_FISHER) {
            return KeptGradients.of(this, batch);
        }
        TwiceDifferentiable model = this;
        return new KeptCurvature() {
            @Override
            public Curvature curvature() {
                return curvature;
            }

            @Override
            public Tensor times(Tensor vs, TensorScope scope) {
                return model.curvatureBlock(batch, curvature, vs, scope);
            }

            @Override
            public long keptBytes() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * @param samples a batch's sample count, positive
     * @return an estimate of the bytes {@link #keepCurvature} keeps for the empirical Fisher of a batch
     *     of that many samples, for callers that check a memory budget before keeping (which forms
     *     the per-sample gradients); the default: the gradients, {@code samples·p} values
     */
    default long empiricalFisherKeptBytes(int samples) {
        return Math.multiplyExact(Math.multiplyExact(samples, (long) numParameters()), spec().dtype().bytes());
    }

    /**
     * The per-sample gradients in blocks that cover θ in order, each in its cheapest exact form
     * ({@link GradientBlock}): a Dense layer on vectors as its factors (the gradient is their outer
     * product, never formed), an Embedding table as the rows its ids look up, other parameters as
     * gradient columns. For inner products of gradients (TracInCP) this replaces a GEMM of inner size
     * out·in by two of inner sizes out and in, and one of inner size V·d by at most T² products of d.
     *
     * <p>The default is one materialized block, {@link #perSampleGradients}.
     *
     * @return the blocks in θ order, their tensors owned by {@code scope}
     */
    default java.util.List<GradientBlock> perSampleGradientBlocks(Batch batch, TensorScope scope) {
        return java.util.List.of(GradientBlock.materialized(0, perSampleGradients(batch, scope)));
    }

    /**
     * {@link #perSampleGradientBlocks} of the named parameters only (Captum's {@code layers}): blocks
     * covering exactly them in θ order, each named parameter in one block, computing only what they
     * need. A Dense layer on vectors whose weight is named stays its factors (with the bias when that
     * is named too), its bias alone gives columns (δ); a named Embedding table gives its rows; other
     * parameters give columns.
     *
     * <p>The default slices {@link #perSampleGradients}: a block of columns per named parameter.
     *
     * @param parameters names of {@link #parameterLayout()}
     * @return the blocks in θ order, their tensors owned by {@code scope}
     * @throws IllegalArgumentException naming {@code parameters} for a name the model does not have
     */
    default java.util.List<GradientBlock> perSampleGradientBlocks(Batch batch, TensorScope scope,
                                                                 java.util.Set<String> parameters) {
        java.util.List<org.influence4j.api.model.ParameterInfo> named =
                org.influence4j.api.model.ParameterInfo.named(parameterLayout(), parameters);
        Tensor columns = perSampleGradients(batch, scope).transpose();
        java.util.List<GradientBlock> out = new java.util.ArrayList<>(named.size());
        for (org.influence4j.api.model.ParameterInfo info : named) {
            out.add(GradientBlock.materialized(info.offset(),
                    columns.rows(info.offset(), info.offset() + info.size()).transpose()));
        }
        return out;
    }

    /**
     * @param parameters names of {@link #parameterLayout()}
     * @return the entries of a sample's gradient that {@link #perSampleGradientBlocks(Batch, TensorScope,
     *     java.util.Set)} forms as columns for these parameters; the default p (it forms the whole
     *     gradient, then slices it)
     */
    default long perSampleGradientColumns(java.util.Set<String> parameters) {
        return numParameters();
    }

    /**
     * @return how many of θ's entries {@link #perSampleGradientBlocks} returns as gradient columns
     *     (materialized blocks, {@code [n, ·]} per batch); the others come as Dense factors or
     *     Embedding rows. Callers
     *     size their batches by it: one sample's columns take this many entries of the dtype. The
     *     default is p (one materialized block).
     */
    default long perSampleGradientColumns() {
        return numParameters();
    }

    /**
     * Square-root factors of the Gauss-Newton matrix of a batch, for operators that apply G many
     * times at fixed θ (Lanczos, CG): a matrix M {@code [n·c, p]}, c = {@link ModelSpec#outputDim()},
     * with {@code Σ_i J_iᵀ H_ℓ,i J_i = Mᵀ M} (the <em>summed</em> loss; divide by n for
     * {@link #gaussNewtonBlock}'s mean). Row {@code i·c + j} is {@code J_iᵀ u_ij}, where the
     * {@code u_ij} are columns of a square root of {@code H_ℓ,i} ({@code Σ_j u_ij u_ijᵀ = H_ℓ,i}): for
     * softmax cross-entropy {@code u_ij = √p_ij (e_j − p_i)}, the rows of the true Fisher. Then
     * {@code G v = (1/n) Mᵀ (M v)}: two matrix products instead of a pass through the model.
     *
     * @return M, owned by {@code scope}
     * @throws UnsupportedOperationException if the model does not provide them (then neither does it
     *     need to: {@link #gaussNewtonBlock} serves every product)
     */
    default Tensor gaussNewtonFactors(Batch batch, TensorScope scope) {
        throw new UnsupportedOperationException("model " + this + " on backend " + backend().name()
                + " does not provide Gauss-Newton factors");
    }

    /**
     * A new model equal to this one (same spec, backend and current parameters) with its own native
     * memory, for running work on another thread when this instance is not thread-safe: the two may
     * be used by two threads at the same time. The caller must close it.
     *
     * @throws UnsupportedOperationException if this model cannot be rebuilt (the default; a model
     *     read from an engine's own file format)
     */
    default TwiceDifferentiable replicate() {
        throw new UnsupportedOperationException("model " + this + " on backend " + backend().name()
                + " cannot be replicated; run it on one thread");
    }

    /** @return whether several threads may use this instance at the same time */
    boolean isThreadSafe();

    /** Frees the model's native memory. Idempotent. */
    @Override
    void close();
}
