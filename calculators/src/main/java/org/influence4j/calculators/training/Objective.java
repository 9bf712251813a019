package org.influence4j.calculators.training;

import java.util.Iterator;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;

/**
 * The training objective {@code J(θ) = (1/N) Σ_i ℓ_i(θ) + (l2/2)‖θ‖²} over a {@link DataSource},
 * evaluated on the host in double precision from the model's batch means:
 * {@code Σ_{i∈b} ℓ_i = n_b · loss(b)}, likewise for gradients and Hessians.
 *
 * <p>N is {@link ObjectiveOptions#lossNormalizer()} or, when that is 0, the number of samples. With
 * N = n, {@code ∇²J = ∇²L + l2·I}: the regularized Hessian used by the influence models with
 * λ = l2. Keeping N = n while training on n − 1 samples gives leave-one-out retraining at the same
 * scale (removing a sample = up-weighting it by ε = −1/n).
 *
 * <p>Values are returned as computed: a diverged θ gives a non-finite J, which callers check.
 *
 * <p>Every evaluation sets the model's parameters to θ (the model is left there) and costs one
 * pass over the data. The first pass checks every batch against the model spec. Not thread-safe.
 */
public final class Objective {

    private final TwiceDifferentiable model;
    private final DataSource data;
    private final ObjectiveOptions options;
    private final double normalizer;
    private final int p;
    private boolean validated;
    private long evaluations;

    /** A value and a gradient at one θ. */
    public record ValueAndGradient(double value, double[] gradient) {
        /** @return a copy of the gradient */
        @Override
        public double[] gradient() {
            return gradient.clone();
        }

        /** @return the Euclidean norm of the gradient */
        public double gradientNorm() {
            return norm(gradient);
        }
    }

    /**
     * @throws IllegalArgumentException naming a null or mismatched argument
     */
    public Objective(TwiceDifferentiable model, DataSource data, ObjectiveOptions options) {
        if (model == null) {
            throw new IllegalArgumentException("model: must not be null");
        }
        if (data == null) {
            throw new IllegalArgumentException("trainingData: must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use ObjectiveOptions.defaults()");
        }
        if (data.size() <= 0) {
            throw new IllegalArgumentException("trainingData: the data source is empty");
        }
        if (data.numFeatures() != model.spec().inputDim()) {
            throw new IllegalArgumentException("trainingData: x has " + data.numFeatures()
                    + " features per sample but the model spec expects inputDim=" + model.spec().inputDim());
        }
        this.model = model;
        this.data = data;
        this.options = options;
        this.normalizer = options.lossNormalizer() == 0 ? data.size() : options.lossNormalizer();
        this.p = model.numParameters();
    }

    /** @return the model */
    public TwiceDifferentiable model() {
        return model;
    }

    /** @return the data */
    public DataSource data() {
        return data;
    }

    /** @return the options */
    public ObjectiveOptions options() {
        return options;
    }

    /** @return N, the loss normalizer in effect */
    public double normalizer() {
        return normalizer;
    }

    /** @return p */
    public int dimension() {
        return p;
    }

    /** @return how many evaluations (data passes) were made */
    public long evaluations() {
        return evaluations;
    }

    /** @return J(θ) */
    public double value(double[] theta) {
        return pass(theta, false).value();
    }

    /** @return J(θ) and ∇J(θ) */
    public ValueAndGradient valueAndGradient(double[] theta) {
        return pass(theta, true);
    }

    /** @return ∇²J(θ), row-major {@code [p, p]} (p² doubles: for small p) */
    public double[] hessian(double[] theta) {
        set(theta);
        double[] h = new double[p * p];
        try (TensorScope scope = model.backend().newScope()) {
            forEachBatch(batch -> {
                try (Tensor hb = model.hessian(batch, scope)) {
                    add(h, hb.toDoubleArray(), batch.size() / normalizer);
                }
            });
        }
        for (int i = 0; i < p; i++) {
            h[i * p + i] += options.l2();
        }
        evaluations++;
        return h;
    }

    private ValueAndGradient pass(double[] theta, boolean withGradient) {
        set(theta);
        double[] sum = {0};
        double[] g = withGradient ? new double[p] : null;
        try (TensorScope scope = model.backend().newScope()) {
            forEachBatch(batch -> {
                sum[0] += batch.size() * model.loss(batch);
                if (withGradient) {
                    try (Tensor gb = model.gradient(batch, scope)) {
                        add(g, gb.toDoubleArray(), batch.size() / normalizer);
                    }
                }
            });
        }
        double value = sum[0] / normalizer + 0.5 * options.l2() * dot(theta, theta);
        if (withGradient) {
            for (int i = 0; i < p; i++) {
                g[i] += options.l2() * theta[i];
            }
        }
        evaluations++;
        return new ValueAndGradient(value, g);
    }

    private void set(double[] theta) {
        if (theta == null || theta.length != p) {
            throw new IllegalArgumentException("theta: must have length " + p);
        }
        model.setParameters(theta);
    }

    @FunctionalInterface
    private interface BatchAction {
        void accept(Batch batch);
    }

    private void forEachBatch(BatchAction action) {
        boolean check = !validated;
        long total = 0;
        Iterator<Batch> it = data.batches(options.batchSize());
        while (it.hasNext()) {
            Batch batch = it.next();
            if (check) {
                model.spec().validate(batch, "trainingData");
            }
            action.accept(batch);
            total += batch.size();
        }
        if (total != data.size()) {
            throw new IllegalStateException("trainingData: the data source reported size() = " + data.size()
                    + " but its batches held " + total + " samples");
        }
        validated = true;
    }

    private static void add(double[] acc, double[] values, double weight) {
        if (values.length != acc.length) {
            throw new IllegalStateException("model returned " + values.length + " values, expected " + acc.length);
        }
        for (int i = 0; i < acc.length; i++) {
            acc[i] += weight * values[i];
        }
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }
}
