package org.influence4j.calculators.testing;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.ModelSpec;

/**
 * A {@link TwiceDifferentiable} for a model of exactly one Dense layer {@code z = W x + b}
 * ({@code W [C, d]}, {@code b [C]}, flat order W then b) with closed-form derivatives. With the
 * per-sample loss derivative {@code r = dℓ/dz} and curvature {@code S = d²ℓ/dz²}:
 * <ul>
 *   <li>MSE: {@code ℓ = (1/C) Σ (z − y)²}, {@code r = (2/C)(z − y)}, {@code S = (2/C) I};</li>
 *   <li>binary logistic: {@code ℓ = softplus(z) − y z}, {@code r = σ(z) − y}, {@code S = σ(1 − σ)};</li>
 *   <li>softmax cross-entropy: {@code ℓ = logsumexp(z) − z_y}, {@code r = π − e_y},
 *       {@code S = diag(π) − ππᵀ}.</li>
 * </ul>
 * {@code ∇θℓ = r ⊗ [x, 1]} and {@code ∇²θℓ = S ⊗ [x,1][x,1]ᵀ}. Computation is in double; results
 * are stored in the spec's dtype. Counts HVP calls so that tests can check data passes.
 */
public final class HostModel implements TwiceDifferentiable {

    private final ModelSpec spec;
    private final int d;
    private final int c;
    private final int p;
    private double[] theta;
    private final AtomicInteger hvpCalls = new AtomicInteger();
    private final AtomicInteger hessianCalls = new AtomicInteger();
    private final boolean replicable;
    private final List<HostModel> replicas = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /**
     * @throws IllegalArgumentException if the spec is not a single Dense layer
     */
    public HostModel(ModelSpec spec, double[] parameters) {
        this(spec, parameters, true);
    }

    private HostModel(ModelSpec spec, double[] parameters, boolean replicable) {
        this.replicable = replicable;
        if (spec.layers().size() != 1 || !(spec.layers().get(0) instanceof Layer.Dense dense)) {
            throw new IllegalArgumentException("HostModel supports exactly one Dense layer, got " + spec.layers());
        }
        this.spec = spec;
        this.d = dense.inFeatures();
        this.c = dense.outFeatures();
        this.p = spec.numParameters();
        setParameters(parameters);
    }

    /** @return a model like {@link #HostModel(ModelSpec, double[])} whose {@link #replicate()} is unsupported */
    public static HostModel withoutReplicas(ModelSpec spec, double[] parameters) {
        return new HostModel(spec, parameters, false);
    }

    /** @return a new HostModel with this one's parameters (unless made {@link #withoutReplicas}) */
    @Override
    public HostModel replicate() {
        if (!replicable) {
            throw new UnsupportedOperationException("this HostModel cannot be replicated");
        }
        HostModel replica = new HostModel(spec, theta);
        replicas.add(replica);
        return replica;
    }

    /** @return the replicas made so far */
    public List<HostModel> replicas() {
        return List.copyOf(replicas);
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    /** @return the number of hvp/hvpBlock calls (one per batch) */
    public int hvpCalls() {
        return hvpCalls.get();
    }

    /** @return the number of hessian calls */
    public int hessianCalls() {
        return hessianCalls.get();
    }

    @Override
    public ModelSpec spec() {
        return spec;
    }

    @Override
    public Backend backend() {
        return HostBackend.INSTANCE;
    }

    @Override
    public int numParameters() {
        return p;
    }

    @Override
    public double[] parameters() {
        return theta.clone();
    }

    @Override
    public void setParameters(double[] parameters) {
        spec.validateParameters(parameters, "parameters");
        double[] t = parameters.clone();
        if (spec.dtype() == DType.FLOAT32) {
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) t[i];
            }
        }
        this.theta = t;
    }

    private double[] logits(Batch batch, int i) {
        double[] x = batch.x();
        double[] z = new double[c];
        for (int k = 0; k < c; k++) {
            double s = theta[c * d + k];
            for (int j = 0; j < d; j++) {
                s += theta[k * d + j] * x[i * d + j];
            }
            z[k] = s;
        }
        return z;
    }

    private double loss(double[] z, Batch batch, int i) {
        double[] y = batch.y();
        switch (spec.loss()) {
            case MSE -> {
                double s = 0;
                for (int k = 0; k < c; k++) {
                    double e = z[k] - y[i * c + k];
                    s += e * e;
                }
                return s / c;
            }
            case BINARY_LOGISTIC -> {
                double v = z[0];
                return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))) - y[i] * v;
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                double m = Double.NEGATIVE_INFINITY;
                for (double v : z) {
                    m = Math.max(m, v);
                }
                double s = 0;
                for (double v : z) {
                    s += Math.exp(v - m);
                }
                return m + Math.log(s) - z[(int) y[i]];
            }
            default -> throw new IllegalStateException();
        }
    }

    /** dℓ/dz. */
    private double[] residual(double[] z, Batch batch, int i) {
        double[] y = batch.y();
        double[] r = new double[c];
        switch (spec.loss()) {
            case MSE -> {
                for (int k = 0; k < c; k++) {
                    r[k] = 2.0 / c * (z[k] - y[i * c + k]);
                }
            }
            case BINARY_LOGISTIC -> r[0] = sigmoid(z[0]) - y[i];
            case SOFTMAX_CROSS_ENTROPY -> {
                double[] pi = softmax(z);
                for (int k = 0; k < c; k++) {
                    r[k] = pi[k] - (k == (int) y[i] ? 1 : 0);
                }
            }
            default -> throw new IllegalStateException();
        }
        return r;
    }

    /** d²ℓ/dz², row-major [c, c]. */
    private double[] curvature(double[] z) {
        double[] s = new double[c * c];
        switch (spec.loss()) {
            case MSE -> {
                for (int k = 0; k < c; k++) {
                    s[k * c + k] = 2.0 / c;
                }
            }
            case BINARY_LOGISTIC -> {
                double sg = sigmoid(z[0]);
                s[0] = sg * (1 - sg);
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                double[] pi = softmax(z);
                for (int k = 0; k < c; k++) {
                    for (int l = 0; l < c; l++) {
                        s[k * c + l] = (k == l ? pi[k] : 0) - pi[k] * pi[l];
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
        return s;
    }

    static double sigmoid(double v) {
        return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    }

    private static double[] softmax(double[] z) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            m = Math.max(m, v);
        }
        double[] out = new double[z.length];
        double s = 0;
        for (int k = 0; k < z.length; k++) {
            out[k] = Math.exp(z[k] - m);
            s += out[k];
        }
        for (int k = 0; k < z.length; k++) {
            out[k] /= s;
        }
        return out;
    }

    private void check(Batch batch) {
        spec.validate(batch, "batch");
    }

    private static HostScope host(TensorScope scope) {
        return (HostScope) scope;
    }

    @Override
    public Tensor forward(Batch batch, TensorScope scope) {
        check(batch);
        int n = batch.size();
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(logits(batch, i), 0, out, i * c, c);
        }
        return host(scope).fromArray(out, spec.dtype(), n, c);
    }

    @Override
    public double loss(Batch batch) {
        check(batch);
        double s = 0;
        for (int i = 0; i < batch.size(); i++) {
            s += loss(logits(batch, i), batch, i);
        }
        return s / batch.size();
    }

    @Override
    public Tensor perSampleLosses(Batch batch, TensorScope scope) {
        check(batch);
        double[] out = new double[batch.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = loss(logits(batch, i), batch, i);
        }
        return host(scope).fromArray(out, spec.dtype(), out.length);
    }

    private double[] sampleGradient(Batch batch, int i) {
        double[] r = residual(logits(batch, i), batch, i);
        double[] g = new double[p];
        double[] x = batch.x();
        for (int k = 0; k < c; k++) {
            for (int j = 0; j < d; j++) {
                g[k * d + j] = r[k] * x[i * d + j];
            }
            g[c * d + k] = r[k];
        }
        return g;
    }

    @Override
    public Tensor gradient(Batch batch, TensorScope scope) {
        check(batch);
        int n = batch.size();
        double[] g = new double[p];
        for (int i = 0; i < n; i++) {
            double[] gi = sampleGradient(batch, i);
            for (int q = 0; q < p; q++) {
                g[q] += gi[q] / n;
            }
        }
        return host(scope).fromArray(g, spec.dtype(), p);
    }

    @Override
    public Tensor perSampleGradients(Batch batch, TensorScope scope) {
        check(batch);
        int n = batch.size();
        double[] g = new double[n * p];
        for (int i = 0; i < n; i++) {
            System.arraycopy(sampleGradient(batch, i), 0, g, i * p, p);
        }
        return host(scope).fromArray(g, spec.dtype(), n, p);
    }

    @Override
    public Tensor hvp(Batch batch, Tensor v, TensorScope scope) {
        if (v.rank() != 1 || v.shape()[0] != p) {
            throw new IllegalArgumentException("hvp: v must be [" + p + "]");
        }
        hvpCalls.incrementAndGet();
        return host(scope).fromArray(hvpRows(batch, v.toDoubleArray(), 1), spec.dtype(), p);
    }

    @Override
    public Tensor hvpBlock(Batch batch, Tensor vs, TensorScope scope) {
        long[] s = vs.shape();
        if (s.length != 2 || s[1] != p) {
            throw new IllegalArgumentException("hvpBlock: vs must be [k, " + p + "]");
        }
        hvpCalls.incrementAndGet();
        int k = (int) s[0];
        return host(scope).fromArray(hvpRows(batch, vs.toDoubleArray(), k), spec.dtype(), k, p);
    }

    private double[] hvpRows(Batch batch, double[] vs, int k) {
        check(batch);
        int n = batch.size();
        double[] x = batch.x();
        double[] out = new double[k * p];
        for (int i = 0; i < n; i++) {
            double[] s = curvature(logits(batch, i));
            for (int row = 0; row < k; row++) {
                int o = row * p;
                double[] dz = new double[c];
                for (int a = 0; a < c; a++) {
                    double t = vs[o + c * d + a];
                    for (int j = 0; j < d; j++) {
                        t += vs[o + a * d + j] * x[i * d + j];
                    }
                    dz[a] = t;
                }
                for (int a = 0; a < c; a++) {
                    double u = 0;
                    for (int b = 0; b < c; b++) {
                        u += s[a * c + b] * dz[b];
                    }
                    u /= n;
                    for (int j = 0; j < d; j++) {
                        out[o + a * d + j] += u * x[i * d + j];
                    }
                    out[o + c * d + a] += u;
                }
            }
        }
        return out;
    }

    private int index(int cls, int feature) {
        return feature < d ? cls * d + feature : c * d + cls;
    }

    @Override
    public Tensor hessian(Batch batch, TensorScope scope) {
        check(batch);
        hessianCalls.incrementAndGet();
        int n = batch.size();
        double[] x = batch.x();
        double[] h = new double[p * p];
        for (int i = 0; i < n; i++) {
            double[] s = curvature(logits(batch, i));
            for (int a = 0; a < c; a++) {
                for (int b = 0; b < c; b++) {
                    double sab = s[a * c + b] / n;
                    if (sab == 0) {
                        continue;
                    }
                    for (int j = 0; j <= d; j++) {
                        double xj = j < d ? x[i * d + j] : 1;
                        int row = index(a, j);
                        for (int l = 0; l <= d; l++) {
                            double xl = l < d ? x[i * d + l] : 1;
                            h[row * p + index(b, l)] += sab * xj * xl;
                        }
                    }
                }
            }
        }
        return host(scope).fromArray(h, spec.dtype(), p, p);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Closed form: the single layer's inputs are the features x and its output gradients are the
     * loss derivatives {@code r = dℓ/dz}.
     */
    @Override
    public List<DenseLayerFactors> denseLayerFactors(Batch batch, TensorScope scope) {
        check(batch);
        int n = batch.size();
        double[] r = new double[n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(residual(logits(batch, i), batch, i), 0, r, i * c, c);
        }
        return List.of(new DenseLayerFactors(0, 0, host(scope).fromArray(batch.x().clone(), spec.dtype(), n, d),
                host(scope).fromArray(r, spec.dtype(), n, c)));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Closed form: with v split into its weight part V {@code [C, d]} and bias part {@code v_b},
     * {@code ⟨v, ∇θℓ⟩ = rᵀ (V x + v_b)}, so {@code ∇x⟨v, ∇θℓ⟩ = Wᵀ S (V x + v_b) + Vᵀ r}.
     */
    @Override
    public Tensor mixedGradientProducts(Batch batch, Tensor vs, TensorScope scope) {
        check(batch);
        long[] s = vs.shape();
        if (s.length != 2 || s[1] != p) {
            throw new IllegalArgumentException("vs: must be [k, " + p + "], got " + java.util.Arrays.toString(s));
        }
        int k = (int) s[0];
        int n = batch.size();
        double[] v = vs.toDoubleArray();
        double[] x = batch.x();
        double[] out = new double[k * n * d];
        for (int i = 0; i < n; i++) {
            double[] z = logits(batch, i);
            double[] r = residual(z, batch, i);
            double[] curv = curvature(z);
            for (int row = 0; row < k; row++) {
                int o = row * p;
                double[] u = new double[c];
                for (int a = 0; a < c; a++) {
                    double t = v[o + c * d + a];
                    for (int j = 0; j < d; j++) {
                        t += v[o + a * d + j] * x[i * d + j];
                    }
                    u[a] = t;
                }
                double[] su = new double[c];
                for (int a = 0; a < c; a++) {
                    for (int b = 0; b < c; b++) {
                        su[a] += curv[a * c + b] * u[b];
                    }
                }
                int base = (row * n + i) * d;
                for (int j = 0; j < d; j++) {
                    double t = 0;
                    for (int a = 0; a < c; a++) {
                        t += theta[a * d + j] * su[a] + v[o + a * d + j] * r[a];
                    }
                    out[base + j] = t;
                }
            }
        }
        return host(scope).fromArray(out, spec.dtype(), k, n, d);
    }

    @Override
    public boolean isThreadSafe() {
        return false;
    }

    @Override
    public void close() {
        closed = true;
    }
}
