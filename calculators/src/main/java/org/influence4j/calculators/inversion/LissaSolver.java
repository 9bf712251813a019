package org.influence4j.calculators.inversion;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.api.progress.ProgressListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LiSSA, the Linear time Stochastic Second-order Algorithm (Agarwal et al. 2017; pyDVL's
 * {@code LissaInfluence}): the fixed-point iteration
 * <pre>  h ← b + (1 − d)·h − A h / s,   x = h / s</pre>
 * started at h = b (pyDVL), with dampening d and scale s, whose fixed point solves
 * {@code (A + s·d·I) x = b}. The k right-hand sides of a solve iterate in lockstep (one block
 * Hessian-vector product per iteration); each stops when its relative residual
 * {@code ‖Δh‖/‖b‖ = ‖b − (s·d·I + A) x‖/‖b‖ ≤ rtol}. With {@link LissaOptions#batchSize()} = 0
 * every iteration uses the full-data operator, so the residual is exact; with mini-batches it is
 * the mini-batch estimate.
 *
 * <p><b>Divergence.</b> The iteration converges iff every eigenvalue of A lies in
 * {@code (−s·d, (2 − d)·s)}. A non-finite iterate, a residual 100 times above its smallest value
 * so far, or (full-data mode, where the residual of a convergent iteration never grows) a residual
 * that grew in 10 consecutive iterations raise an {@link InversionException} saying to increase
 * the scale or dampening, or the hessian regularization λ when H has negative curvature.
 * Reaching maxiter before rtol throws an {@link InversionException} with {@link Reason#NOT_CONVERGED}
 * naming the worst relative residual (in full-data mode the residual of the full operator in the
 * model dtype; with mini-batches the mini-batch estimate), unless
 * {@link LissaOptions#allowUnconverged()}, which returns the solutions with {@code converged = false}
 * and the failure in {@link SolverInfo#warnings()}.
 *
 * <p>Details: {@code "iterationsPerRhs"}, {@code "passes"}, {@code "scale"}, {@code "dampen"},
 * {@code "effectiveRegularization"} (λ + s·d). Immutable and thread-safe; prepared inverses are not.
 */
public final class LissaSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(LissaSolver.class);
    private static final double GROWTH_FACTOR = 100;
    private static final int GROWTH_PATIENCE = 10;

    private final LissaOptions options;
    private final ProgressListener progress;

    /** A solver with {@link LissaOptions#defaults()}. */
    public LissaSolver() {
        this(LissaOptions.defaults());
    }

    /** @param options iteration settings */
    public LissaSolver(LissaOptions options) {
        this(options, ProgressListener.NONE);
    }

    /**
     * @param options  iteration settings
     * @param progress receives one task per solve, {@code "LiSSA (k right-hand sides)"}, with one step
     *                 per iteration out of at most maxiter
     */
    public LissaSolver(LissaOptions options, ProgressListener progress) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use LissaOptions.defaults()");
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        this.options = options;
        this.progress = progress;
    }

    @Override
    public LissaSolver withProgress(ProgressListener listener) {
        return new LissaSolver(options, listener);
    }

    /** @return the options */
    public LissaOptions options() {
        return options;
    }

    @Override
    public InversionMethod method() {
        return InversionMethod.LISSA;
    }

    /** Cheap: remembers the operator. */
    @Override
    public LissaInverse prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        return new LissaInverse(operator, options, progress);
    }

    @Override
    public String toString() {
        return "LissaSolver" + options;
    }

    /** LiSSA bound to one operator; accepts an initial guess. Not thread-safe. */
    public static final class LissaInverse implements InverseHessian {

        private final HessianOperator operator;
        private final LissaOptions options;
        private final ProgressListener progress;
        private Iterator<Batch> batches;
        private long batchPasses;
        private boolean closed;

        private LissaInverse(HessianOperator operator, LissaOptions options, ProgressListener progress) {
            this.operator = operator;
            this.options = options;
            this.progress = progress;
        }

        /** Starts from h = b, i.e. x0 = b/s (pyDVL). */
        @Override
        public InverseHvpResult solve(Tensor rhs, TensorScope scope) {
            return solve(rhs, null, scope);
        }

        /**
         * @param rhs   {@code [k, p]} or {@code [p]}
         * @param x0    initial solutions of the same shape (h0 = s·x0), or {@code null} for b/s
         * @param scope owner of the solutions
         * @throws InversionException on divergence
         */
        public InverseHvpResult solve(Tensor rhs, Tensor x0, TensorScope scope) {
            InverseChecks.requireOpen(closed, "LiSSA");
            int p = operator.dimension();
            int k = InverseChecks.requireRhsShape(rhs, p);
            InverseChecks.requireGuessShape(x0, rhs);
            double s = options.scale();
            double d = options.dampen();
            long passesBefore = operator.passes() + batchPasses;
            progress.started("LiSSA (" + k + " right-hand side" + (k == 1 ? "" : "s") + ")", options.maxIterations());
            try (TensorScope work = scope.newChild()) {
                Tensor b = copy(rhs, work, k, p);
                SolveTracker tracker = new SolveTracker(b);
                Tensor h;
                if (x0 == null) {
                    h = b.scale(1.0);
                } else {
                    try (Tensor c = copy(x0, work, k, p)) {
                        h = c.scale(s);
                    }
                }
                int[] active = RowBlocks.allRows(k);
                double[] best = new double[k];
                double[] last = new double[k];
                int[] growing = new int[k];
                Arrays.fill(best, Double.POSITIVE_INFINITY);
                Arrays.fill(last, Double.POSITIVE_INFINITY);
                int iteration = 0;
                while (active.length > 0 && iteration < options.maxIterations()) {
                    iteration++;
                    progress.step(1);
                    Tensor ah = applyA(h, work);
                    Tensor next;
                    try (Tensor damp = h.scale(1 - d); Tensor t = damp.axpy(-1 / s, ah)) {
                        next = t.add(b);
                    }
                    ah.close();
                    double[] rr;
                    try (Tensor delta = next.sub(h)) {
                        rr = RowBlocks.rowDots(delta, delta);
                    }
                    h.close();
                    h = next;
                    int[] keep = new int[active.length];
                    int nk = 0;
                    for (int j = 0; j < active.length; j++) {
                        int i = active[j];
                        tracker.iterated(i);
                        double rel = tracker.relative(i, rr[j]);
                        if (!Double.isFinite(rel)) {
                            throw diverged(iteration, i, "the iterate became non-finite");
                        }
                        if (rel > GROWTH_FACTOR * best[i]) {
                            throw diverged(iteration, i, "the relative residual grew from " + best[i] + " to " + rel);
                        }
                        growing[i] = rel > last[i] * (1 + 1e-9) && rel > 1e-10 ? growing[i] + 1 : 0;
                        if (options.batchSize() == 0 && growing[i] >= GROWTH_PATIENCE) {
                            throw diverged(iteration, i, "the relative residual grew in " + GROWTH_PATIENCE
                                    + " consecutive iterations to " + rel);
                        }
                        best[i] = Math.min(best[i], rel);
                        last[i] = rel;
                        tracker.record(i, rel);
                        if (rel <= options.rtol()) {
                            tracker.finish(i, h.rows(j, j + 1));
                        } else {
                            keep[nk++] = j;
                        }
                    }
                    if (nk < active.length) {
                        int[] kept = Arrays.copyOf(keep, nk);
                        if (nk > 0) {
                            Tensor hk = RowBlocks.gather(h, kept);
                            Tensor bk = RowBlocks.gather(b, kept);
                            h.close();
                            b.close();
                            h = hk;
                            b = bk;
                        }
                        active = RowBlocks.select(active, kept);
                    }
                }
                if (active.length > 0) {
                    for (int j = 0; j < active.length; j++) {
                        tracker.finish(active[j], h.rows(j, j + 1));
                    }
                    tracker.stopped("reached maxiter = " + options.maxIterations(), active);
                }
                h.close();
                b.close();
                Tensor hs = tracker.solutions();
                Tensor x = hs.scale(1 / s);
                hs.close();
                x = InverseChecks.toCallerLayout(x, rhs);
                Map<String, Object> details = tracker.details(operator.passes() + batchPasses - passesBefore);
                details.put("scale", s);
                details.put("dampen", d);
                details.put("effectiveRegularization", operator.regularization() + s * d);
                details.put("batchSize", options.batchSize());
                SolverInfo info = tracker.conclude(InversionMethod.LISSA, "LiSSA", "rtol = "
                        + LissaOptions.RTOL.format(options.rtol())
                        + (options.batchSize() == 0 ? "" : " (mini-batch estimate of the residual)"), "raise maxiter"
                        + " (now " + options.maxIterations() + "), lower the scale (now " + LissaOptions.SCALE.format(s)
                        + ") towards half the largest eigenvalue of H + λI, increase the hessian regularization λ"
                        + " (now " + operator.regularization() + ") or, on the Hessian, use the Gauss-Newton curvature"
                        + " (--curvature gauss-newton)", options.allowUnconverged(), LOG, List.of(), details);
                return new InverseHvpResult(x.moveTo(scope), info);
            } finally {
                progress.finished();
            }
        }

        private InversionException diverged(int iteration, int rhs, String what) {
            return new InversionException(Reason.DIVERGENCE,
                    "LiSSA diverged at iteration " + iteration + " for right-hand side " + rhs
                    + " (" + what + "): the iteration needs every eigenvalue of H + λI (λ = "
                    + operator.regularization() + ") inside (−scale·dampen, (2 − dampen)·scale) with scale = "
                    + options.scale() + ", dampen = " + options.dampen() + "; increase the scale or the dampening"
                    + " (dampen > 0 adds scale·dampen to the regularization), and if the Hessian has negative"
                    + " curvature (the parameters are not at a minimum) increase the hessian regularization λ");
        }

        /** A·h: the full operator, or the next mini-batch's Hessian plus λ. */
        private Tensor applyA(Tensor h, TensorScope work) {
            if (options.batchSize() == 0) {
                return operator.apply(h, work);
            }
            if (batches == null || !batches.hasNext()) {
                batches = operator.data().batches(options.batchSize());
                batchPasses++;
            }
            Batch batch = batches.next();
            Tensor hv = operator.model().hvpBlock(batch, h, work);
            double lambda = operator.regularization();
            if (lambda == 0) {
                return hv;
            }
            Tensor out = hv.axpy(lambda, h);
            hv.close();
            return out;
        }

        private Tensor copy(Tensor t, TensorScope work, int k, int p) {
            try (Tensor zeros = work.zeros(operator.dtype(), k, p); Tensor rows = t.reshape(k, p)) {
                return zeros.add(rows);
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
