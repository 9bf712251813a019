package org.influence4j.calculators.tracin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ParameterInfo;

/**
 * TracInCP (Pruthi et al. 2020) with Captum's semantics: the score of training point z on test
 * point t is {@code Σ_c η_c ⟨∇θℓ(t; θ_c), ∇θℓ(z; θ_c)⟩} over the checkpoints, with per-sample
 * gradients from one batched pass per chunk, optionally restricted to named parameters
 * ({@link TracInOptions#layers()}, Captum's {@code layers}). Self-influence is
 * {@code Σ_c η_c ‖∇θℓ(z; θ_c)‖²}; {@link #topK} streams training chunks through a bounded
 * selection and never builds the m×n matrix (the m test gradients of every checkpoint are kept).
 *
 * <p>The model's parameters are switched to each checkpoint during a call and restored afterwards.
 * Not thread-safe (it mutates the model).
 */
public final class TracInCP extends CheckpointMethod {

    private final TracInOptions options;
    private final int[][] ranges;

    /**
     * @param model       the model (any parameters; they are restored after every call)
     * @param checkpoints the loaded checkpoints with learning rates
     * @param options     layer restriction and batch size
     * @throws IllegalArgumentException naming {@code options} for an unknown or repeated layer name
     */
    public TracInCP(TwiceDifferentiable model, TracInCheckpoints checkpoints, TracInOptions options) {
        super(model, checkpoints, options == null ? 1 : options.batchSize(),
                options == null ? null : options.progress());
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use TracInOptions.defaults()");
        }
        this.options = options;
        this.ranges = ranges(model, options.layers());
    }

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

    @Override
    List<Tensor> represent(Batch batch, TensorScope scope) {
        return List.of(gradients(batch, scope));
    }

    @Override
    Tensor pair(List<Tensor> test, List<Tensor> train, TensorScope scope) {
        try (Tensor t = train.get(0).transpose()) {
            return test.get(0).matmul(t);
        }
    }

    @Override
    Tensor self(List<Tensor> rep, TensorScope scope) {
        return rep.get(0).rowDots(rep.get(0));
    }

    @Override
    public String toString() {
        return "TracInCP[" + checkpoints.size() + " checkpoints, layers=" + options.layers() + "]";
    }
}
