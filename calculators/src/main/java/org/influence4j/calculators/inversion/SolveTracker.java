package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.slf4j.Logger;

/**
 * The bookkeeping of one solve of a block of k right-hand sides, shared by the iterative solvers
 * of this package ({@link ConjugateGradientSolver}, {@link BlockCg}, {@link LissaSolver}), after
 * Commons Math's {@code IterationManager}/{@code IterativeLinearSolver}: it checks the right-hand
 * sides, keeps ‖b_i‖, applies the stopping rule {@code ‖r_i‖ ≤ max(rtol·‖b_i‖, atol)}, counts
 * iterations per right-hand side, keeps the final relative residuals
 * {@code ‖r_i‖/‖b_i‖} (absolute when {@code b_i = 0}) and solution rows of the right-hand sides
 * that left the block, collects the warnings and builds the {@link SolverInfo}. The argument checks
 * of the inverses are in {@link InverseChecks}, the row-block helpers in {@link RowBlocks}. Not
 * thread-safe.
 */
final class SolveTracker {

    private final int k;
    private final double[] bNorm;
    private final double rtol;
    private final double atol;
    private final double[] tol;
    private final int[] iterations;
    private final double[] residuals;
    private final Tensor[] finished;
    private final List<String> warnings = new ArrayList<>();

    /**
     * A tracker without the {@code max(rtol·‖b‖, atol)} rule, for a solver with its own stopping
     * rule on {@link #relative} ({@link LissaSolver}).
     *
     * @param b the right-hand sides {@code [k, p]} (not consumed)
     * @throws IllegalArgumentException naming {@code rhs} if a row is not finite
     */
    SolveTracker(Tensor b) {
        this(b, Double.NaN, Double.NaN, false);
    }

    /**
     * @param b    the right-hand sides {@code [k, p]} (not consumed)
     * @param rtol relative tolerance of the stopping rule
     * @param atol absolute tolerance of the stopping rule
     * @throws IllegalArgumentException naming {@code rhs} if a row is not finite
     */
    SolveTracker(Tensor b, double rtol, double atol) {
        this(b, rtol, atol, true);
    }

    private SolveTracker(Tensor b, double rtol, double atol, boolean rule) {
        this.k = (int) b.shape()[0];
        this.bNorm = sqrt(RowBlocks.rowDots(b, b));
        this.rtol = rtol;
        this.atol = atol;
        this.tol = rule ? new double[k] : null;
        for (int i = 0; i < k; i++) {
            if (!Double.isFinite(bNorm[i])) {
                throw new IllegalArgumentException("rhs: row " + i + " has non-finite values");
            }
            if (rule) {
                tol[i] = Math.max(rtol * bNorm[i], atol);
            }
        }
        this.iterations = new int[k];
        this.residuals = new double[k];
        this.finished = new Tensor[k];
    }

    /** @return k, the number of right-hand sides */
    int size() {
        return k;
    }

    /** @return {@code ‖r‖/‖b_i‖} for {@code rr = ‖r‖²}, or {@code ‖r‖} when {@code b_i = 0} */
    double relative(int i, double rr) {
        double norm = Math.sqrt(rr);
        return bNorm[i] > 0 ? norm / bNorm[i] : norm;
    }

    /** @return the largest {@link #relative} residual of the active rows ({@code rr} in block order) */
    double maxRelative(int[] active, double[] rr) {
        double worst = 0;
        for (int j = 0; j < active.length; j++) {
            worst = Math.max(worst, relative(active[j], rr[j]));
        }
        return worst;
    }

    /** @return the largest residual recorded for the right-hand sides {@code active} */
    double maxRecorded(int[] active) {
        double worst = 0;
        for (int i : active) {
            worst = Math.max(worst, residuals[i]);
        }
        return worst;
    }

    /**
     * Splits a block by the stopping rule {@code ‖r‖ ≤ max(rtol·‖b‖, atol)}.
     *
     * @param active original indices of the block's rows
     * @param rr     {@code ‖r‖²} of the block's rows
     */
    private Split split(int[] active, double[] rr) {
        if (tol == null) {
            throw new IllegalStateException("this tracker has no max(rtol·‖b‖, atol) rule");
        }
        int[] done = new int[active.length];
        int[] keep = new int[active.length];
        int nd = 0;
        int nk = 0;
        for (int j = 0; j < active.length; j++) {
            if (Math.sqrt(rr[j]) <= tol[active[j]]) {
                done[nd++] = j;
            } else {
                keep[nk++] = j;
            }
        }
        return new Split(Arrays.copyOf(done, nd), Arrays.copyOf(keep, nk));
    }

    /** Block positions (increasing) of the rows that met the stopping rule and of those that go on. */
    private record Split(int[] done, int[] kept) {
    }

    /**
     * The active block of an iterative solve: its rows' original indices, solutions and
     * {@code ‖r‖²}, and how to keep a subset of its rows.
     *
     * @param <S> the solver's own block type
     */
    interface ActiveRows<S extends ActiveRows<S>> {
        /** @return original indices of the rows, increasing */
        int[] active();

        /** @return the current solutions, one row per active right-hand side */
        Tensor x();

        /** @return {@code ‖r‖²} of every row */
        double[] rr();

        /** @return a new block of the rows {@code positions} (increasing); this block stays open */
        S keep(int[] positions);

        /** @return a block without rows */
        S empty();

        /** Frees the block's tensors. */
        void close();
    }

    /**
     * Applies the stopping rule to a block: the rows that meet it are {@link #finish finished}
     * and leave; consumes {@code s} when rows leave.
     *
     * @return the rows that go on ({@code s} itself when none leave)
     */
    <S extends ActiveRows<S>> S retire(S s) {
        Split split = split(s.active(), s.rr());
        if (split.done().length == 0) {
            return s;
        }
        finish(s.active(), split.done(), s.x(), s.rr());
        S next = split.kept().length == 0 ? s.empty() : s.keep(split.kept());
        s.close();
        return next;
    }

    /** Counts one more iteration for right-hand side {@code i}. */
    void iterated(int i) {
        iterations[i]++;
    }

    /** Records the current relative residual of right-hand side {@code i}. */
    void record(int i, double relative) {
        residuals[i] = relative;
    }

    /** Keeps {@code row} ({@code [1, p]}) as the solution of right-hand side {@code i}. */
    void finish(int i, Tensor row) {
        finished[i] = row;
    }

    /**
     * Keeps the rows {@code positions} of the block {@code x} as solutions, with their relative
     * residuals.
     *
     * @param active original indices of the block's rows
     * @param rr     {@code ‖r‖²} of the block's rows
     */
    void finish(int[] active, int[] positions, Tensor x, double[] rr) {
        for (int j : positions) {
            int i = active[j];
            finish(i, x.rows(j, j + 1));
            record(i, relative(i, rr[j]));
        }
    }

    /** {@link #finish(int[], int[], Tensor, double[])} for every row of the block. */
    void finishAll(int[] active, Tensor x, double[] rr) {
        finish(active, RowBlocks.allRows(active.length), x, rr);
    }

    /** Logs {@code warning} and keeps it: a solve with a warning of its own has not converged. */
    void warn(Logger log, String warning) {
        log.warn(warning);
        warnings.add(warning);
    }

    /**
     * Warns that {@code remaining} right-hand sides did not meet {@code ‖r‖ ≤ max(rtol·‖b‖, atol)}.
     *
     * @param what   why the iteration stopped, e.g. "conjugate gradient reached maxiter = 10"
     * @param worst  the largest relative residual left
     * @param lambda the operator's regularization λ
     */
    void toleranceNotMet(Logger log, String what, int remaining, double worst, double lambda) {
        warn(log, what + " before ‖r‖ <= max(rtol·‖b‖, atol) (rtol = " + rtol + ", atol = " + atol + ") for "
                + remaining + " of " + k + " right-hand sides (largest relative residual " + worst + "); these"
                + " solutions are not accurate: raise maxiter, loosen the tolerances, or increase the hessian"
                + " regularization λ (now " + lambda + ") to improve the conditioning");
    }

    /** @return the finished rows joined to {@code [k, p]}; consumes them */
    Tensor solutions() {
        return RowBlocks.concatAll(new ArrayList<>(Arrays.asList(finished)));
    }

    /**
     * @param passes the data passes of this solve
     * @return a mutable map with {@code "iterationsPerRhs"} and {@code "passes"}, for the solver's own details to follow
     */
    Map<String, Object> details(long passes) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("iterationsPerRhs", Arrays.stream(iterations).boxed().toList());
        details.put("passes", passes);
        return details;
    }

    /**
     * @param earlier warnings from before this solve (e.g. from {@code prepare}); they come first
     *                and do not count against convergence
     * @return iterations = the largest count, the recorded residuals, converged iff this solve warned of nothing
     */
    SolverInfo info(InversionMethod method, List<String> earlier, Map<String, Object> details) {
        List<String> all = new ArrayList<>(earlier);
        all.addAll(warnings);
        return new SolverInfo(method, Arrays.stream(iterations).max().orElse(0), residuals, warnings.isEmpty(), all,
                details);
    }

    private static double[] sqrt(double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.sqrt(v[i]);
        }
        return out;
    }
}
