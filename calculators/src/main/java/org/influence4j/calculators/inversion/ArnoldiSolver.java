package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.calculators.internal.DenseLinalg;
import org.influence4j.api.progress.ProgressListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Low-rank inversion from a partial eigendecomposition of the Hessian (pyDVL's
 * {@code ArnoldiInfluence}): {@link #prepare} computes the r eigenpairs (θ_i, v_i) of the
 * <em>unregularized</em> Hessian {@code H = A − λI} that are largest in magnitude (ARPACK's
 * {@code which="LM"}, as pyDVL) from Hessian-vector products only, and {@code solve} applies
 * <pre>  x = Σ_i v_i (v_iᵀ b) / (θ_i + λ)</pre>
 * i.e. λ is added to the kept eigenvalues and the component of b outside the kept eigenspace is
 * dropped, exactly as pyDVL does. With r = p this is the exact inverse; at r &lt; p the error is
 * {@code Σ_{i>r} v_i (v_iᵀ b)/(θ_i + λ)}, the discarded part of the spectrum.
 *
 * <p><b>Algorithm.</b> Thick-restart Lanczos (Wu &amp; Simon 2000; the symmetric equivalent of
 * ARPACK's implicitly restarted Arnoldi) with full reorthogonalisation: a Krylov basis of m vectors
 * is built (one data pass per vector), the m x m projected matrix is diagonalised on the host
 * (EJML), the r wanted Ritz pairs are tested ({@code ‖H y − θ y‖ = β·|s_m| ≤ tol·|θ|}) and, until
 * they all converge, the basis restarts from the {@code r + (m − r)/2} best Ritz vectors plus the
 * residual direction. An invariant subspace (breakdown) is continued with a fresh random
 * direction.
 *
 * <p><b>Negative and tiny eigenvalues.</b> pyDVL divides by θ_i + λ whatever its sign. Here a
 * kept eigenvalue with {@code θ_i + λ ≤ 0} (H + λI indefinite on the kept space) is refused with
 * an {@link InversionException} advising a larger λ, and kept negative θ_i (the parameters are
 * not at a minimum) produce a warning in every {@link SolverInfo}.
 *
 * <p><b>Diagnostics.</b> Details: {@code "eigenvalues"} (θ_i of H, by decreasing magnitude),
 * {@code "rank"}, {@code "krylovDimension"}, {@code "restarts"}, {@code "ritzResiduals"},
 * {@code "preparePasses"}. No residuals are computed by {@code solve} (that would cost a data pass).
 */
public final class ArnoldiSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(ArnoldiSolver.class);

    private final ArnoldiOptions options;
    private final ProgressListener progress;

    /** A solver with {@link ArnoldiOptions#defaults()}. */
    public ArnoldiSolver() {
        this(ArnoldiOptions.defaults());
    }

    /** @param options rank, Krylov dimension, tolerance, restarts */
    public ArnoldiSolver(ArnoldiOptions options) {
        this(options, ProgressListener.NONE);
    }

    /**
     * @param options  rank, Krylov dimension, tolerance, restarts
     * @param progress receives the task {@code "Arnoldi (Lanczos, rank r)"} of {@link #prepare}, one step
     *                 per Hessian-vector product (the total is unknown: 0)
     */
    public ArnoldiSolver(ArnoldiOptions options, ProgressListener progress) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use ArnoldiOptions.defaults()");
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        this.options = options;
        this.progress = progress;
    }

    @Override
    public ArnoldiSolver withProgress(ProgressListener listener) {
        return new ArnoldiSolver(options, listener);
    }

    /** @return the options */
    public ArnoldiOptions options() {
        return options;
    }

    @Override
    public InversionMethod method() {
        return InversionMethod.ARNOLDI;
    }

    /**
     * Computes the partial eigendecomposition.
     *
     * @throws IllegalArgumentException if the Krylov dimension does not exceed the rank (unless both are p)
     * @throws InversionException if a kept θ_i + λ ≤ 0
     */
    @Override
    public LowRankInverse prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        int p = operator.dimension();
        int r = options.rankFor(p);
        int m = options.krylovDimensionFor(p);
        if (m == r && r < p) {
            throw new IllegalArgumentException("krylov_dimension: " + m + " must exceed rank_estimate " + r
                    + " (unless both equal the number of parameters " + p + ")");
        }
        List<String> warnings = new ArrayList<>();
        PrecomputedOperator precomputed = options.precompute() ? PrecomputedOperator.ifFits(operator,
                "every Lanczos step makes a data pass", warnings, LOG) : null;
        HessianOperator op = precomputed != null ? precomputed : operator;
        long passesBefore = op.passes();
        TensorScope own = operator.model().backend().newScope();
        try {
            Lanczos lanczos = new Lanczos(op, r, m, own);
            progress.task("Arnoldi (Lanczos, rank " + r + ")", 0, () -> {
                lanczos.run();
                return lanczos;
            });
            double lambda = operator.regularization();
            double[] theta = lanczos.values;
            double maxAbs = Math.abs(theta[0]);
            for (int i = 0; i < theta.length; i++) {
                if (!(theta[i] + lambda > 0)) {
                    throw new InversionException(Reason.NEGATIVE_CURVATURE,
                            "kept eigenvalue " + theta[i] + " of the Hessian gives θ + λ = "
                            + (theta[i] + lambda) + " <= 0 (λ = " + lambda + "): H + λI is not positive definite on"
                            + " the kept eigenspace (the parameters are not at a minimum of the training loss);"
                            + " increase the hessian regularization λ above " + (-theta[i]));
                }
            }
            double minTheta = Arrays.stream(theta).min().orElse(0);
            if (minTheta < -1e-12 * maxAbs) {
                String w = "the Hessian has negative eigenvalues among the kept ones (smallest " + minTheta
                        + "): the parameters are not at a minimum of the training loss and the influences are"
                        + " unreliable; train to convergence or increase the hessian regularization λ";
                LOG.warn(w);
                warnings.add(w);
            }
            warnings.addAll(lanczos.warnings);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("eigenvalues", Arrays.stream(theta).boxed().toList());
            details.put("rank", theta.length);
            details.put("krylovDimension", m);
            details.put("restarts", lanczos.restarts);
            details.put("ritzResiduals", Arrays.stream(lanczos.ritzResiduals).boxed().toList());
            details.put("preparePasses", op.passes() - passesBefore);
            details.put("precomputed", precomputed != null);
            details.put("precomputedForm", precomputed == null ? "none" : precomputed.form());
            if (precomputed != null) {
                precomputed.close();
            }
            return new LowRankInverse(InversionMethod.ARNOLDI, own, lanczos.vectors, theta, lambda, false,
                    lanczos.converged, warnings, details);
        } catch (RuntimeException e) {
            own.close();
            if (precomputed != null) {
                precomputed.close();
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "ArnoldiSolver" + options;
    }

    /** Thick-restart Lanczos with full reorthogonalisation, vectors as rows. */
    private final class Lanczos {
        private final HessianOperator op;
        private final int r;
        private final int m;
        private final int p;
        private final double lambda;
        private final DType dtype;
        private final TensorScope own;
        private final Random random;
        private final List<String> warnings = new ArrayList<>();
        private final double eps;
        double[] values;
        double[] ritzResiduals;
        Tensor vectors;
        int restarts;
        boolean converged;

        Lanczos(HessianOperator op, int r, int m, TensorScope own) {
            this.op = op;
            this.r = r;
            this.m = m;
            this.p = op.dimension();
            this.lambda = op.regularization();
            this.dtype = op.dtype();
            this.own = own;
            this.random = new Random(options.seed());
            this.eps = NystroemSketch.epsilon(dtype);
        }

        /**
         * Reports kept Ritz pairs that missed tol after {@code maxRestarts}: an {@link InversionException}
         * with {@link Reason#NOT_CONVERGED} naming the worst relative Ritz residual, or with
         * {@link ArnoldiOptions#allowUnconverged()} a warning.
         */
        private void notConverged(int maxRestarts, double[] theta, double[] res, double normEstimate) {
            double worst = 0;
            int at = 0;
            for (int i = 0; i < r; i++) {
                double relative = res[i] / Math.max(Math.abs(theta[i]), eps * normEstimate);
                if (relative > worst) {
                    worst = relative;
                    at = i;
                }
            }
            String w = "Arnoldi (thick-restart Lanczos) did not converge: it reached max_iter = " + maxRestarts
                    + " restarts before the " + r + " kept Ritz pairs met ‖H y − θ y‖ ≤ tol·|θ| (tol = "
                    + ArnoldiOptions.TOL.format(options.tol()) + "); the worst relative Ritz residual is "
                    + String.format(Locale.ROOT, "%.3g", worst) + " (eigenvalue " + String.format(Locale.ROOT,
                    "%.3g", theta[at]) + "); raise max_iter or krylov_dimension, or lower rank_estimate";
            if (!options.allowUnconverged()) {
                throw new InversionException(Reason.NOT_CONVERGED, w + ", or keep the approximate eigenpairs with"
                        + " allow_unconverged = true (--allow-unconverged)");
            }
            w += "; kept because allow_unconverged = true";
            LOG.warn(w);
            warnings.add(w);
        }

        /** H v = A v − λ v for a row block. */
        private Tensor applyH(Tensor v, TensorScope scope) {
            Tensor av = op.apply(v, scope);
            progress.step(1);
            if (lambda == 0) {
                return av;
            }
            Tensor hv = av.axpy(-lambda, v);
            av.close();
            return hv;
        }

        /** A random unit row orthogonal to the rows of {@code basis} (may be null). */
        private Tensor freshDirection(LanczosBasis basis, TensorScope work) {
            Tensor g = DenseLinalg.gaussian(random, 1, p, dtype, work);
            if (basis != null) {
                for (int pass = 0; pass < 2; pass++) {
                    Tensor next = orthogonalize(g, basis, work, null);
                    g.close();
                    g = next;
                }
            }
            Tensor unit = g.scale(1 / g.norm());
            g.close();
            return unit;
        }

        /** w − Vᵀ(V w) for a row w; adds the coefficients to {@code h} when given. */
        private Tensor orthogonalize(Tensor w, LanczosBasis basis, TensorScope work, double[] h) {
            double[] c = basis.dots(w);
            if (h != null) {
                for (int i = 0; i < c.length; i++) {
                    h[i] += c[i];
                }
            }
            try (Tensor proj = basis.combine(new double[][] {c}, work)) {
                return w.sub(proj);
            }
        }

        void run() {
            int maxRestarts = options.maxIterationsFor(p);
            try (TensorScope work = own.newChild()) {
                LanczosBasis basis = new LanczosBasis((long) p * dtype.bytes(), LanczosBasis.BLOCK_BYTES);
                basis.append(freshDirection(null, work));
                double[][] t = new double[m][m];
                int kept = 0;
                double normEstimate = 0;
                while (true) {
                    Tensor residual = null;
                    double beta = 0;
                    for (int c = kept; c < m; c++) {
                        Tensor w;
                        try (Tensor v = basis.row(c)) {
                            w = applyH(v, work);
                        }
                        double[] h = new double[c + 1];
                        for (int pass = 0; pass < 2; pass++) {
                            Tensor next = orthogonalize(w, basis, work, h);
                            w.close();
                            w = next;
                        }
                        for (int i = 0; i <= c; i++) {
                            t[i][c] = h[i];
                            t[c][i] = h[i];
                            normEstimate = Math.max(normEstimate, Math.abs(h[i]));
                        }
                        beta = w.norm();
                        if (!Double.isFinite(beta)) {
                            throw new InversionException(Reason.NON_FINITE,
                                    "Lanczos produced a non-finite vector; check the Hessian for"
                                    + " NaN/Inf (model parameters and training data)");
                        }
                        boolean breakdown = beta <= 100 * eps * Math.max(normEstimate, Double.MIN_NORMAL);
                        if (c == m - 1) {
                            if (breakdown) {
                                beta = 0;
                                w.close();
                            } else {
                                residual = w.scale(1 / beta);
                                w.close();
                            }
                            break;
                        }
                        Tensor v;
                        if (breakdown) {
                            w.close();
                            v = freshDirection(basis, work);
                            t[c + 1][c] = 0;
                            t[c][c + 1] = 0;
                        } else {
                            v = w.scale(1 / beta);
                            w.close();
                            t[c + 1][c] = beta;
                            t[c][c + 1] = beta;
                        }
                        basis.append(v);
                    }
                    DenseLinalg.Eigen e = DenseLinalg.symmetricEigen(t, DenseLinalg.MAGNITUDE);
                    double[] res = new double[m];
                    boolean all = true;
                    double tolerance = options.tol() > 0 ? options.tol() : eps;
                    for (int i = 0; i < m; i++) {
                        res[i] = beta * Math.abs(e.vectors()[i][m - 1]);
                        if (i < r && res[i] > tolerance * Math.max(Math.abs(e.values()[i]), eps * normEstimate)) {
                            all = false;
                        }
                    }
                    int keep = all || restarts >= maxRestarts ? r : Math.min(r + (m - r) / 2, m - 1);
                    double[][] s = new double[keep][];
                    for (int i = 0; i < keep; i++) {
                        s[i] = e.vectors()[i];
                    }
                    Tensor ritz = basis.closeInto(s, work);
                    if (all || restarts >= maxRestarts) {
                        if (residual != null) {
                            residual.close();
                        }
                        converged = all;
                        if (!all) {
                            notConverged(maxRestarts, e.values(), res, normEstimate);
                        }
                        values = Arrays.copyOf(e.values(), r);
                        ritzResiduals = Arrays.copyOf(res, r);
                        vectors = ritz.moveTo(own);
                        return;
                    }
                    restarts++;
                    t = new double[m][m];
                    for (int i = 0; i < keep; i++) {
                        t[i][i] = e.values()[i];
                        t[i][keep] = beta * e.vectors()[i][m - 1];
                        t[keep][i] = t[i][keep];
                    }
                    basis = new LanczosBasis((long) p * dtype.bytes(), LanczosBasis.BLOCK_BYTES);
                    basis.append(ritz);
                    basis.append(residual);
                    kept = keep;
                }
            }
        }
    }
}
