package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
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
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.api.progress.ProgressListener;
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
 * {@link InversionException} instead of returning meaningless numbers.
 *
 * <p><b>True residual.</b> The recursive residual drifts from {@code b − A x} in finite precision
 * (in float32 it keeps shrinking long after the true residual has stopped at the rounding level).
 * So when the recursion stops, the true residual {@code b_i − A x_i} is computed (one more operator
 * application, in the operator's dtype; the subtraction and the norms in float64, against the
 * caller's right-hand sides) and the solve has converged only if every right-hand side meets
 * {@code ‖b_i − A x_i‖ ≤ max(rtol·‖b_i‖, atol)} by it. The right-hand sides that the recursion
 * stopped but the true residual does not accept are restarted from their solutions (whose residual
 * is recomputed as {@code b − A x}), within the remaining iterations, at most {@value #MAX_RESTARTS}
 * times and only while their true residual decreases. A solve that has not converged then (the
 * iteration limit, a stagnated block, or a true residual above the tolerance) throws an
 * {@link InversionException} with {@link Reason#NOT_CONVERGED} naming the worst true residual,
 * unless {@link CgOptions#allowUnconverged()}, which returns the solutions with
 * {@code converged = false} and the failure in {@link SolverInfo#warnings()}.
 *
 * <p><b>Diagnostics.</b> {@link SolverInfo#iterations()} is the largest iteration count,
 * {@link SolverInfo#residuals()} the true relative residuals {@code ‖b_i − A x_i‖/‖b_i‖}
 * (absolute when {@code b_i = 0}); details hold {@code "iterationsPerRhs"}, {@code "passes"} (the
 * true-residual applications included), {@code "recursiveResiduals"} (what the first recursion had)
 * and {@code "restarts"}.
 *
 * <p>Computation runs in the operator's dtype; solutions are returned in the dtype of the
 * right-hand sides. The solver is immutable and thread-safe; prepared inverses are not.
 */
public final class ConjugateGradientSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(ConjugateGradientSolver.class);

    /** Restarts from the true residual after the recursion stopped on a residual the true one does not meet. */
    static final int MAX_RESTARTS = 3;

    private final CgOptions options;
    private final ProgressListener progress;

    /** A solver with {@link CgOptions#defaults()}. */
    public ConjugateGradientSolver() {
        this(CgOptions.defaults(), ProgressListener.NONE);
    }

    /** @param options tolerances and iteration limit */
    public ConjugateGradientSolver(CgOptions options) {
        this(options, ProgressListener.NONE);
    }

    /**
     * @param options  tolerances and iteration limit
     * @param progress receives one task per solve, {@code "CG (k right-hand sides)"}, with one step
     *                 per iteration (restarts included) out of at most maxiter
     */
    public ConjugateGradientSolver(CgOptions options, ProgressListener progress) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use CgOptions.defaults()");
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        this.options = options;
        this.progress = progress;
    }

    @Override
    public ConjugateGradientSolver withProgress(ProgressListener listener) {
        return new ConjugateGradientSolver(options, listener);
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
     * ({@link PrecomputedOperator#ifFits}: the dense matrix or the Gauss-Newton factors, one data
     * pass) when it fits, else logs a warning that is
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
        PrecomputedOperator precomputed = options.precompute() ? PrecomputedOperator.ifFits(operator,
                "every iteration makes a data pass instead", warnings, LOG) : null;
        HessianOperator op = precomputed != null ? precomputed : operator;
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
        return new CgInverse(op, options, progress, pre, precomputed, warnings);
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
        private final ProgressListener progress;
        private final Preconditioner preconditioner;
        private final PrecomputedOperator precomputed;
        private final List<String> prepareWarnings;
        private boolean closed;

        private CgInverse(HessianOperator operator, CgOptions options, ProgressListener progress,
                          Preconditioner preconditioner, PrecomputedOperator precomputed,
                          List<String> prepareWarnings) {
            this.operator = operator;
            this.options = options;
            this.progress = progress;
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
            InverseChecks.requireOpen(closed, "CG");
            int p = operator.dimension();
            int k = InverseChecks.requireRhsShape(rhs, p);
            InverseChecks.requireGuessShape(x0, rhs);
            long passesBefore = operator.passes();
            progress.started("CG (" + k + " right-hand side" + (k == 1 ? "" : "s") + ")",
                    options.maxIterationsFor(p));
            try (TensorScope work = scope.newChild(); Tensor rows = rhs.reshape(k, p)) {
                Tensor b = copyIn(rhs, work);
                SolveTracker tracker = new SolveTracker(b, options.rtolFor(operator.dtype()), options.atol());
                Tensor guess = x0 == null ? null : copyIn(x0, work);
                int maxIterations = options.maxIterationsFor(p);
                Tensor x = iterate(b.scale(1.0), guess, tracker, maxIterations, work);
                double[] recursive = tracker.replaceByTrue(RowBlocks.allRows(k),
                        RowBlocks.residualSquares(operator, rows, x, work));
                x = restartFromTrueResidual(b, rows, x, tracker, maxIterations, work);
                Map<String, Object> details = tracker.details(operator.passes() - passesBefore);
                details.put("maxIterations", maxIterations);
                details.put("variant", options.block() ? "block" : "lockstep");
                details.put("precomputed", precomputed != null);
                details.put("precomputedForm", precomputed == null ? "none" : precomputed.form());
                details.put("recursiveResiduals", Arrays.stream(recursive).boxed().toList());
                details.put("restarts", tracker.restarts());
                if (preconditioner != null) {
                    details.putAll(preconditioner.details());
                }
                SolverInfo info = tracker.conclude(InversionMethod.CG, options.block() ? "block conjugate gradient"
                        : "conjugate gradient", tracker.rule() + " by the true residual in float64 (the operator in "
                        + operator.dtype() + ")", "raise maxiter (now " + maxIterations + "), loosen"
                        + " rtol (float32 rounding rarely allows below 1e-6), increase the hessian regularization λ"
                        + " (now " + operator.regularization() + ") or, on the Hessian, use the positive semi-definite"
                        + " Gauss-Newton curvature (--curvature gauss-newton)", options.allowUnconverged(), LOG,
                        prepareWarnings, details);
                x = InverseChecks.toCallerLayout(x, rhs);
                return new InverseHvpResult(x.moveTo(scope), info);
            } finally {
                progress.finished();
            }
        }

        /**
         * Restarts the right-hand sides that the recursion stopped but whose true residual misses the
         * tolerance ({@link SolveTracker#restartable}) from their solutions, at most
         * {@value #MAX_RESTARTS} times, each within the iterations they have left.
         *
         * @param b    right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
         * @param rows the caller's right-hand sides as {@code [k, p]} (not consumed)
         * @param x    the solutions {@code [k, p]}, owned by work (consumed)
         * @return the solutions after the restarts, owned by work
         */
        private Tensor restartFromTrueResidual(Tensor b, Tensor rows, Tensor x, SolveTracker tracker,
                                               int maxIterations, TensorScope work) {
            for (int[] again = tracker.restartable(maxIterations); again.length > 0
                    && tracker.restarts() < MAX_RESTARTS; again = tracker.restartable(maxIterations)) {
                SolveTracker sub;
                Tensor xs;
                try (Tensor bs = RowBlocks.gather(b, again); Tensor xg = RowBlocks.gather(x, again)) {
                    sub = new SolveTracker(bs, options.rtolFor(operator.dtype()), options.atol());
                    xs = iterate(bs.scale(1.0), xg.scale(1.0), sub, maxIterations - tracker.maxIterations(again), work);
                }
                try (Tensor bs = RowBlocks.gather(rows, again)) {
                    tracker.restarted(again, sub, RowBlocks.residualSquares(operator, bs, xs, work));
                }
                Tensor merged = RowBlocks.replaceRows(x, again, xs);
                x.close();
                xs.close();
                x = merged;
            }
            b.close();
            return x;
        }

        /**
         * One CG run (lockstep or block) of at most {@code maxIterations} iterations.
         *
         * @param b     right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
         * @param guess initial guesses or {@code null}, owned by work (consumed)
         * @return the solutions {@code [k, p]}, owned by work
         */
        private Tensor iterate(Tensor b, Tensor guess, SolveTracker tracker, int maxIterations, TensorScope work) {
            return options.block()
                    ? new BlockCg(operator, options.withMaxIterations(maxIterations), progress, preconditioner, work,
                            tracker).solve(b, guess)
                    : new Run(work, tracker, maxIterations).solve(b, guess);
        }

        /** A copy of a caller's tensor as a {@code [k, p]} block in the operator dtype, owned by work. */
        private Tensor copyIn(Tensor t, TensorScope work) {
            Tensor copy;
            try (Tensor zeros = work.zeros(operator.dtype(), t.shape())) {
                copy = zeros.add(t);
            }
            if (copy.rank() == 1) {
                Tensor block = copy.reshape(1, operator.dimension());
                copy.close();
                return block;
            }
            return copy;
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
            private final SolveTracker tracker;
            private final int k;
            private final int p;
            private final DType dtype;
            private final int maxIterations;

            Run(TensorScope work, SolveTracker tracker, int maxIterations) {
                this.work = work;
                this.tracker = tracker;
                this.maxIterations = maxIterations;
                this.k = tracker.size();
                this.p = operator.dimension();
                this.dtype = operator.dtype();
            }

            /**
             * @param b  right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
             * @param x0 initial guesses or {@code null}, owned by work (consumed)
             * @return the solutions {@code [k, p]}, owned by work
             */
            Tensor solve(Tensor b, Tensor x0) {
                RowBlocks.Start start = RowBlocks.Start.of(operator, b, x0, work);
                Tensor r = start.r();
                double[] rr = RowBlocks.rowDots(r, r);
                for (int i = 0; i < k; i++) {
                    if (!Double.isFinite(rr[i])) {
                        throw new IllegalArgumentException("x0: row " + i + " gives a non-finite residual");
                    }
                }
                Tensor z = precondition(r);
                double[] rz = preconditioner == null ? rr.clone() : RowBlocks.rowDots(r, z);
                State s = tracker.retire(new State(RowBlocks.allRows(k), start.x(), r, z, rr, rz));
                int iteration = 0;
                while (s.active.length > 0 && iteration < maxIterations) {
                    iteration++;
                    s = tracker.retire(step(s, iteration));
                    progress.step(1);
                }
                if (s.active.length > 0) {
                    tracker.stopped("reached maxiter = " + maxIterations, s.active);
                    tracker.finishAll(s.active, s.x, s.rr);
                }
                s.close();
                return tracker.solutions();
            }

            /** M⁻¹ r (a copy of r without preconditioner), owned by work. */
            private Tensor precondition(Tensor r) {
                return preconditioner == null ? r.scale(1.0) : preconditioner.apply(r, work);
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
                double[] curvature = RowBlocks.rowDots(s.dir, ap);
                double[] alpha = new double[ka];
                for (int j = 0; j < ka; j++) {
                    double c = curvature[j];
                    if (!(c > 0)) {
                        ap.close();
                        throw new InversionException(Reason.NEGATIVE_CURVATURE,
                                "conjugate gradient met curvature pᵀAp = " + c
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
                double[] rrNew = RowBlocks.rowDots(r, r);
                Tensor z = precondition(r);
                double[] rzNew = preconditioner == null ? rrNew.clone() : RowBlocks.rowDots(r, z);
                double[] beta = new double[ka];
                for (int j = 0; j < ka; j++) {
                    if (!Double.isFinite(rrNew[j]) || !Double.isFinite(rzNew[j])) {
                        throw new InversionException(Reason.DIVERGENCE,
                                "conjugate gradient diverged (non-finite residual) at iteration "
                                + iteration + " for right-hand side " + s.active[j] + "; check the Hessian for"
                                + " NaN/Inf and increase the hessian regularization λ");
                    }
                    beta[j] = rzNew[j] / s.rz[j];
                    tracker.iterated(s.active[j]);
                }
                Tensor dir;
                try (Tensor bt = work.fromArray(beta, dtype, ka); Tensor pb = s.dir.scaleRows(bt)) {
                    dir = z.add(pb);
                }
                z.close();
                s.close();
                return new State(s.active, x, r, dir, rrNew, rzNew);
            }
        }

        /** Active right-hand sides (original indices, increasing) and their CG vectors as rows. */
        private record State(int[] active, Tensor x, Tensor r, Tensor dir, double[] rr, double[] rz)
                implements SolveTracker.ActiveRows<State> {
            @Override
            public State keep(int[] positions) {
                return new State(RowBlocks.select(active, positions), RowBlocks.gather(x, positions),
                        RowBlocks.gather(r, positions), RowBlocks.gather(dir, positions),
                        RowBlocks.select(rr, positions), RowBlocks.select(rz, positions));
            }

            @Override
            public State empty() {
                return new State(new int[0], null, null, null, new double[0], new double[0]);
            }

            @Override
            public void close() {
                if (x != null) {
                    x.close();
                    r.close();
                    dir.close();
                }
            }
        }
    }
}
