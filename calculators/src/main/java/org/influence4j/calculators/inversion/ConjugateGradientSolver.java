package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conjugate gradient on Hessian-vector products (pyDVL's {@code CgInfluence}), for a symmetric
 * positive definite {@code A = H + λI}.
 *
 * <p><b>Lockstep blocks.</b> The k right-hand sides of one {@code solve} iterate together: every
 * iteration makes <em>one</em> {@link HessianOperator#apply} call (one data pass) on the block of
 * right-hand sides that are still active, with per-row step sizes ({@link Tensor#rowDots},
 * {@link Tensor#scaleRows}). Each right-hand side keeps its own CG recurrence, so the result equals
 * k independent CG runs. A right-hand side stops as soon as
 * {@code ‖r_i‖ ≤ max(rtol·‖b_i‖, atol)} (checked before the first iteration too) and leaves the
 * block.
 *
 * <p><b>Breakdown.</b> Meeting a direction with curvature {@code pᵀAp ≤ 0} proves that A is not
 * positive definite (θ is not at a minimum, or λ is too small); the solve then throws an
 * {@link InversionException} instead of returning meaningless numbers. Reaching the iteration
 * limit first logs a warning and returns {@code converged = false} with the warning in
 * {@link SolverInfo#warnings()}.
 *
 * <p><b>Diagnostics.</b> {@link SolverInfo#iterations()} is the largest iteration count,
 * {@link SolverInfo#residuals()} the final recursive relative residuals {@code ‖r_i‖/‖b_i‖}
 * (absolute when {@code b_i = 0}); details hold {@code "iterationsPerRhs"} and {@code "passes"}.
 *
 * <p>Computation runs in the operator's dtype; solutions are returned in the dtype of the
 * right-hand sides. The solver is immutable and thread-safe; prepared inverses are not.
 */
public final class ConjugateGradientSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(ConjugateGradientSolver.class);

    private final CgOptions options;
    private final IterationListener listener;

    /** A solver with {@link CgOptions#defaults()}. */
    public ConjugateGradientSolver() {
        this(CgOptions.defaults(), null);
    }

    /** @param options tolerances and iteration limit */
    public ConjugateGradientSolver(CgOptions options) {
        this(options, null);
    }

    /**
     * @param options  tolerances and iteration limit
     * @param listener told about every iteration, or {@code null}
     */
    public ConjugateGradientSolver(CgOptions options, IterationListener listener) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use CgOptions.defaults()");
        }
        this.options = options;
        this.listener = listener;
    }

    /** @return the options */
    public CgOptions options() {
        return options;
    }

    @Override
    public InversionMethod method() {
        return InversionMethod.CG;
    }

    /**
     * Remembers the operator; with {@link CgOptions#precompute()} materialises it
     * ({@link PrecomputedHessianOperator}, one data pass) when it fits, else logs a warning that is
     * repeated in every solve's {@link SolverInfo#warnings()}; fits the preconditioner of
     * {@link CgOptions#preconditioner()} (one block data pass).
     *
     * @throws InversionException if the Nyström preconditioner's sketch fails (indefinite Hessian)
     */
    @Override
    public CgInverse prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        if (operator.dimension() <= 0) {
            throw new IllegalArgumentException("operator: dimension must be positive, got " + operator.dimension());
        }
        List<String> warnings = new ArrayList<>();
        HessianOperator op = operator;
        PrecomputedHessianOperator precomputed = null;
        if (options.precompute()) {
            if (PrecomputedHessianOperator.fits(operator)) {
                precomputed = new PrecomputedHessianOperator(operator);
                op = precomputed;
            } else {
                String w = "precompute was requested but the dense " + operator.dimension() + " x "
                        + operator.dimension() + " operator exceeds " + PrecomputedHessianOperator.MAX_BYTES
                        + " bytes; every iteration makes a data pass instead";
                LOG.warn(w);
                warnings.add(w);
            }
        }
        Preconditioner pre;
        try {
            int rank = Math.min(options.preconditionerRank(), operator.dimension());
            pre = switch (options.preconditioner()) {
                case NONE -> null;
                case JACOBI -> JacobiPreconditioner.fit(op, options.hutchinsonProbes(), options.seed());
                case NYSTROEM -> NystroemPreconditioner.fit(op, rank, options.seed());
            };
        } catch (RuntimeException e) {
            if (precomputed != null) {
                precomputed.close();
            }
            throw e;
        }
        return new CgInverse(op, options, listener, pre, precomputed, warnings);
    }

    @Override
    public String toString() {
        return "ConjugateGradientSolver" + options;
    }

    /**
     * CG bound to one operator. Besides {@link #solve(Tensor, TensorScope)} it accepts an initial
     * guess. Not thread-safe.
     */
    public static final class CgInverse implements InverseHessian {

        private final HessianOperator operator;
        private final CgOptions options;
        private final IterationListener listener;
        private final Preconditioner preconditioner;
        private final PrecomputedHessianOperator precomputed;
        private final List<String> prepareWarnings;
        private boolean closed;

        private CgInverse(HessianOperator operator, CgOptions options, IterationListener listener,
                          Preconditioner preconditioner, PrecomputedHessianOperator precomputed,
                          List<String> prepareWarnings) {
            this.operator = operator;
            this.options = options;
            this.listener = listener;
            this.preconditioner = preconditioner;
            this.precomputed = precomputed;
            this.prepareWarnings = List.copyOf(prepareWarnings);
        }

        /** @return the fitted preconditioner, or {@code null} */
        public Preconditioner preconditioner() {
            return preconditioner;
        }

        /** @return the operator being inverted */
        public HessianOperator operator() {
            return operator;
        }

        /** Solves from the initial guess 0. */
        @Override
        public InverseHvpResult solve(Tensor rhs, TensorScope scope) {
            return solve(rhs, null, scope);
        }

        /**
         * Solves {@code A x_i = b_i} for every row of {@code rhs}, starting from {@code x0}.
         *
         * @param rhs   {@code [k, p]} or {@code [p]}
         * @param x0    initial guess of the same shape, or {@code null} for zeros
         * @param scope owner of the returned solutions
         * @throws IllegalArgumentException if shapes do not match the operator
         * @throws InversionException if A shows non-positive curvature or the iteration breaks down
         */
        public InverseHvpResult solve(Tensor rhs, Tensor x0, TensorScope scope) {
            if (closed) {
                throw new IllegalStateException("this CG inverse was closed; prepare the solver again");
            }
            int p = operator.dimension();
            long[] shape = rhs.shape();
            boolean vector = shape.length == 1;
            if (!(vector && shape[0] == p) && !(shape.length == 2 && shape[1] == p && shape[0] > 0)) {
                throw new IllegalArgumentException("rhs: shape " + Arrays.toString(shape) + " is not [" + p
                        + "] or [k, " + p + "]");
            }
            if (x0 != null && !Arrays.equals(x0.shape(), shape)) {
                throw new IllegalArgumentException("x0: shape " + Arrays.toString(x0.shape())
                        + " differs from the right-hand sides' shape " + Arrays.toString(shape));
            }
            int k = vector ? 1 : (int) shape[0];
            long passesBefore = operator.passes();
            try (TensorScope work = scope.newChild()) {
                Run run = new Run(work, k, p);
                Tensor x = options.block()
                        ? new BlockCg(operator, options, listener, preconditioner, work, k, p, run.iterations,
                                run.residuals, run.warnings).solve(run.copyIn(rhs), x0 == null ? null : run.copyIn(x0))
                        : run.solve(rhs, x0);
                if (x.dtype() != rhs.dtype()) {
                    Tensor converted = x.toType(rhs.dtype());
                    x.close();
                    x = converted;
                }
                if (vector) {
                    Tensor reshaped = x.reshape(p);
                    x.close();
                    x = reshaped;
                }
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("iterationsPerRhs", Arrays.stream(run.iterations).boxed().toList());
                details.put("passes", operator.passes() - passesBefore);
                details.put("maxIterations", run.maxIterations);
                details.put("variant", options.block() ? "block" : "lockstep");
                details.put("precomputed", precomputed != null);
                if (preconditioner != null) {
                    details.putAll(preconditioner.details());
                }
                boolean converged = run.warnings.isEmpty();
                List<String> warnings = new ArrayList<>(prepareWarnings);
                warnings.addAll(run.warnings);
                SolverInfo info = new SolverInfo(InversionMethod.CG, Arrays.stream(run.iterations).max().orElse(0),
                        run.residuals, converged, warnings, details);
                return new InverseHvpResult(x.moveTo(scope), info);
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (preconditioner != null) {
                    preconditioner.close();
                }
                if (precomputed != null) {
                    precomputed.close();
                }
            }
        }

        /** The state of one lockstep solve; every tensor lives in {@code work}. */
        private final class Run {
            private final TensorScope work;
            private final int k;
            private final int p;
            private final DType dtype;
            private final int maxIterations;
            private final int[] iterations;
            private final double[] residuals;
            private final Tensor[] finished;
            private final List<String> warnings = new ArrayList<>();

            Run(TensorScope work, int k, int p) {
                this.work = work;
                this.k = k;
                this.p = p;
                this.dtype = operator.dtype();
                this.maxIterations = options.maxIterationsFor(p);
                this.iterations = new int[k];
                this.residuals = new double[k];
                this.finished = new Tensor[k];
            }

            Tensor solve(Tensor rhs, Tensor x0) {
                Tensor b = copyIn(rhs);
                double[] bNorm = sqrt(rowDots(b, b));
                double[] tol = new double[k];
                for (int i = 0; i < k; i++) {
                    if (!Double.isFinite(bNorm[i])) {
                        throw new IllegalArgumentException("rhs: row " + i + " has non-finite values");
                    }
                    tol[i] = Math.max(options.rtol() * bNorm[i], options.atol());
                }
                Tensor x;
                Tensor r;
                if (x0 == null) {
                    x = work.zeros(dtype, k, p);
                    r = b;
                } else {
                    x = copyIn(x0);
                    try (Tensor ax = operator.apply(x, work)) {
                        r = b.sub(ax);
                    }
                    b.close();
                }
                double[] rr = rowDots(r, r);
                int[] active = new int[k];
                for (int i = 0; i < k; i++) {
                    active[i] = i;
                    if (!Double.isFinite(rr[i])) {
                        throw new IllegalArgumentException("x0: row " + i + " gives a non-finite residual");
                    }
                }
                Tensor z = precondition(r);
                double[] rz = preconditioner == null ? rr.clone() : rowDots(r, z);
                State s = new State(active, x, r, z, rr, rz);
                s = retire(s, bNorm, tol);
                int iteration = 0;
                while (s.active.length > 0 && iteration < maxIterations) {
                    iteration++;
                    s = step(s, iteration);
                    s = retire(s, bNorm, tol);
                    if (listener != null) {
                        listener.iterationDone(iteration, s.active.length, k, maxRelative(s, bNorm));
                    }
                }
                if (s.active.length > 0) {
                    double worst = maxRelative(s, bNorm);
                    String warning = "conjugate gradient reached maxiter = " + maxIterations + " before"
                            + " ‖r‖ <= max(rtol·‖b‖, atol) (rtol = " + options.rtol() + ", atol = " + options.atol()
                            + ") for " + s.active.length + " of " + k + " right-hand sides (largest relative"
                            + " residual " + worst + "); these solutions are not accurate: raise maxiter, loosen the"
                            + " tolerances, or increase the hessian regularization λ (now " + operator.regularization()
                            + ") to improve the conditioning";
                    LOG.warn(warning);
                    warnings.add(warning);
                    finish(s, s.active.length, allPositions(s.active.length), bNorm);
                }
                s.close();
                List<Tensor> rows = new ArrayList<>(Arrays.asList(finished));
                return concatAll(rows);
            }

            /** M⁻¹ r (a copy of r without preconditioner), owned by work. */
            private Tensor precondition(Tensor r) {
                return preconditioner == null ? r.scale(1.0) : preconditioner.apply(r, work);
            }

            /** A copy of a caller's tensor as a {@code [k, p]} block in the operator dtype, owned by work. */
            private Tensor copyIn(Tensor t) {
                Tensor copy;
                try (Tensor zeros = work.zeros(dtype, t.shape())) {
                    copy = zeros.add(t);
                }
                if (copy.rank() == 1) {
                    Tensor block = copy.reshape(1, p);
                    copy.close();
                    return block;
                }
                return copy;
            }

            /** One CG iteration on every active right-hand side; consumes {@code s}. */
            private State step(State s, int iteration) {
                int ka = s.active.length;
                Tensor ap = operator.apply(s.dir, work);
                long[] apShape = ap.shape();
                if (apShape.length != 2 || apShape[0] != ka || apShape[1] != p) {
                    throw new IllegalStateException("operator: apply returned shape " + Arrays.toString(apShape)
                            + " for an input of shape [" + ka + ", " + p + "]");
                }
                double[] curvature = rowDots(s.dir, ap);
                double[] alpha = new double[ka];
                for (int j = 0; j < ka; j++) {
                    double c = curvature[j];
                    if (!(c > 0)) {
                        ap.close();
                        throw new InversionException("conjugate gradient met curvature pᵀAp = " + c
                                + " <= 0 at iteration " + iteration + " for right-hand side " + s.active[j]
                                + ": the Hessian plus regularization H + λI (λ = " + operator.regularization()
                                + ") is not positive definite (the parameters are not at a minimum of the"
                                + " training loss); increase the hessian regularization λ");
                    }
                    alpha[j] = s.rz[j] / c;
                }
                Tensor x;
                Tensor r;
                try (Tensor a = work.fromArray(alpha, dtype, ka); Tensor pa = s.dir.scaleRows(a);
                     Tensor apa = ap.scaleRows(a)) {
                    x = s.x.add(pa);
                    r = s.r.sub(apa);
                }
                ap.close();
                double[] rrNew = rowDots(r, r);
                Tensor z = precondition(r);
                double[] rzNew = preconditioner == null ? rrNew.clone() : rowDots(r, z);
                double[] beta = new double[ka];
                for (int j = 0; j < ka; j++) {
                    if (!Double.isFinite(rrNew[j]) || !Double.isFinite(rzNew[j])) {
                        throw new InversionException("conjugate gradient diverged (non-finite residual) at iteration "
                                + iteration + " for right-hand side " + s.active[j] + "; check the Hessian for"
                                + " NaN/Inf and increase the hessian regularization λ");
                    }
                    beta[j] = rzNew[j] / s.rz[j];
                    iterations[s.active[j]]++;
                }
                Tensor dir;
                try (Tensor bt = work.fromArray(beta, dtype, ka); Tensor pb = s.dir.scaleRows(bt)) {
                    dir = z.add(pb);
                }
                z.close();
                s.close();
                return new State(s.active, x, r, dir, rrNew, rzNew);
            }

            /** Moves converged right-hand sides out of the block; consumes {@code s}. */
            private State retire(State s, double[] bNorm, double[] tol) {
                int ka = s.active.length;
                int[] done = new int[ka];
                int[] keep = new int[ka];
                int nd = 0;
                int nk = 0;
                for (int j = 0; j < ka; j++) {
                    if (Math.sqrt(s.rr[j]) <= tol[s.active[j]]) {
                        done[nd++] = j;
                    } else {
                        keep[nk++] = j;
                    }
                }
                if (nd == 0) {
                    return s;
                }
                finish(s, nd, done, bNorm);
                if (nk == 0) {
                    s.close();
                    return new State(new int[0], null, null, null, new double[0], new double[0]);
                }
                int[] kept = Arrays.copyOf(keep, nk);
                int[] active = new int[nk];
                double[] rr = new double[nk];
                double[] rz = new double[nk];
                for (int j = 0; j < nk; j++) {
                    active[j] = s.active[kept[j]];
                    rr[j] = s.rr[kept[j]];
                    rz[j] = s.rz[kept[j]];
                }
                State next = new State(active, gather(s.x, kept), gather(s.r, kept), gather(s.dir, kept), rr, rz);
                s.close();
                return next;
            }

            private void finish(State s, int count, int[] positions, double[] bNorm) {
                for (int q = 0; q < count; q++) {
                    int j = positions[q];
                    int original = s.active[j];
                    finished[original] = s.x.rows(j, j + 1);
                    double norm = Math.sqrt(s.rr[j]);
                    residuals[original] = bNorm[original] > 0 ? norm / bNorm[original] : norm;
                }
            }

            private double maxRelative(State s, double[] bNorm) {
                double worst = 0;
                for (int j = 0; j < s.active.length; j++) {
                    double norm = Math.sqrt(s.rr[j]);
                    double b = bNorm[s.active[j]];
                    worst = Math.max(worst, b > 0 ? norm / b : norm);
                }
                return worst;
            }
        }

        /** Active right-hand sides (original indices, increasing) and their CG vectors as rows. */
        private record State(int[] active, Tensor x, Tensor r, Tensor dir, double[] rr, double[] rz) {
            void close() {
                if (x != null) {
                    x.close();
                    r.close();
                    dir.close();
                }
            }
        }
    }

    private static int[] allPositions(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    static double[] rowDots(Tensor a, Tensor b) {
        try (Tensor d = a.rowDots(b)) {
            return d.toDoubleArray();
        }
    }

    private static double[] sqrt(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.sqrt(v[i]);
        }
        return out;
    }

    /** Rows {@code positions} (increasing) of {@code t}, as contiguous runs concatenated. */
    static Tensor gather(Tensor t, int[] positions) {
        List<Tensor> runs = new ArrayList<>();
        int start = 0;
        while (start < positions.length) {
            int end = start + 1;
            while (end < positions.length && positions[end] == positions[end - 1] + 1) {
                end++;
            }
            runs.add(t.rows(positions[start], positions[end - 1] + 1L));
            start = end;
        }
        return concatAll(runs);
    }

    /**
     * Concatenates along dimension 0 by balanced pairwise merging (each element is copied
     * O(log m) times). Consumes the parts: they are closed, or returned when there is one.
     */
    static Tensor concatAll(List<Tensor> parts) {
        List<Tensor> level = new ArrayList<>(parts);
        while (level.size() > 1) {
            List<Tensor> next = new ArrayList<>((level.size() + 1) / 2);
            for (int i = 0; i + 1 < level.size(); i += 2) {
                Tensor a = level.get(i);
                Tensor b = level.get(i + 1);
                next.add(a.concat(b));
                a.close();
                b.close();
            }
            if (level.size() % 2 == 1) {
                next.add(level.get(level.size() - 1));
            }
            level = next;
        }
        return level.get(0);
    }
}
