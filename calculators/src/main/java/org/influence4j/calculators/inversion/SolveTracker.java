package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.influence4j.api.Tensor;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
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
 * that left the block, collects the warnings and builds the {@link SolverInfo}.
 *
 * <p><b>Convergence is a result.</b> A right-hand side that misses its tolerance is
 * unmet ({@link #stopped}, {@link #replaceByTrue}); {@link #conclude} then throws an {@link InversionException} with
 * {@link Reason#NOT_CONVERGED} naming the worst residual, the iterations and what to change, unless
 * the caller allows unconverged solves, which keeps the numbers and records the failure
 * ({@code converged = false} and a warning). The argument checks of the inverses are in
 * {@link InverseChecks}, the row-block helpers in {@link RowBlocks}. Not thread-safe.
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
    private final boolean[] unmet;
    private final boolean[] stopped;
    private final boolean[] stagnated;
    private final boolean[] trueChecked;
    private final List<String> warnings = new ArrayList<>();
    private String stop;
    private int restarts;

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
        this.unmet = new boolean[k];
        this.stopped = new boolean[k];
        this.stagnated = new boolean[k];
        this.trueChecked = new boolean[k];
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

    /**
     * Records why the iteration stopped before every right-hand side met its tolerance, for the
     * message of {@link #conclude}, and marks the right-hand sides {@code active} as unmet.
     *
     * @param what   why the iteration stopped, e.g. "reached maxiter = 10"
     * @param active original indices of the right-hand sides left in the iteration
     */
    void stopped(String what, int[] active) {
        stop = what;
        for (int i : active) {
            unmet[i] = true;
            stopped[i] = true;
        }
    }

    /**
     * Replaces the recorded residuals of {@code rows} by the true ones and decides by them alone
     * which of these right-hand sides met {@code ‖r_i‖ ≤ max(rtol·‖b_i‖, atol)} (whatever the
     * recursion claimed).
     *
     * @param rows original indices (increasing)
     * @param rr   {@code ‖b_i − A x_i‖²} of {@code rows}, computed in float64
     * @return the residuals the recursion had recorded for {@code rows} (relative)
     */
    double[] replaceByTrue(int[] rows, double[] rr) {
        if (tol == null) {
            throw new IllegalStateException("this tracker has no max(rtol·‖b‖, atol) rule");
        }
        double[] recursive = RowBlocks.select(residuals, rows);
        double[] norms = sqrt(rr);
        for (int j = 0; j < rows.length; j++) {
            int i = rows[j];
            double relative = bNorm[i] > 0 ? norms[j] / bNorm[i] : norms[j];
            if (trueChecked[i] && !(relative < residuals[i])) {
                stagnated[i] = true;
            }
            trueChecked[i] = true;
            residuals[i] = relative;
            unmet[i] = !(norms[j] <= tol[i]);
        }
        return recursive;
    }

    /**
     * @return the right-hand sides (increasing) that missed the tolerance by their true residual
     *     although the recursion stopped them, that have iterations left and whose true residual
     *     still decreased at the last restart: those worth restarting from their solutions
     */
    int[] restartable(int maxIterations) {
        return IntStream.range(0, k)
                .filter(i -> unmet[i] && !stopped[i] && !stagnated[i] && iterations[i] < maxIterations).toArray();
    }

    /** @return how many restarts {@link #restarted} took over */
    int restarts() {
        return restarts;
    }

    /** @return the largest iteration count among {@code rows} */
    int maxIterations(int[] rows) {
        int most = 0;
        for (int i : rows) {
            most = Math.max(most, iterations[i]);
        }
        return most;
    }

    /**
     * Takes over the outcome of a restart of the right-hand sides {@code rows} (its tracker
     * {@code sub} has their rows in the same order): iterations add up, the true residuals replace
     * the recorded ones, a restart stopped by the iteration limit is remembered for the message, and
     * a restart whose true residual did not decrease marks the row as stagnated.
     *
     * @param rr {@code ‖b_i − A x_i‖²} of the restarted solutions, in float64
     */
    void restarted(int[] rows, SolveTracker sub, double[] rr) {
        for (int j = 0; j < rows.length; j++) {
            int i = rows[j];
            iterations[i] += sub.iterations[j];
            if (sub.unmet[j]) {
                stopped[i] = true;
                stop = sub.stop + " (after restarting from the true residual)";
            }
        }
        replaceByTrue(rows, rr);
        restarts++;
    }

    /** @return {@code ‖r‖ ≤ max(rtol·‖b‖, atol) (rtol = …, atol = …)}, the stopping rule with its values */
    String rule() {
        return "‖r‖ ≤ max(rtol·‖b‖, atol) (rtol = " + CgOptions.RTOL.format(rtol) + ", atol = "
                + CgOptions.ATOL.format(atol) + ")";
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
     * The end of a solve. When every right-hand side met its tolerance: {@code converged = true}.
     * Otherwise, unless {@code allowUnconverged}, an {@link InversionException} with
     * {@link Reason#NOT_CONVERGED} whose one-line message names the solver, why it stopped, how many
     * right-hand sides missed {@code tolerance}, the worst recorded relative residual and its
     * iterations, and {@code advice}; with {@code allowUnconverged} the same text is logged and kept
     * as a warning, and {@code converged = false}.
     *
     * @param solver    the solver as the message names it, e.g. "conjugate gradient"
     * @param tolerance the tolerance that was missed, e.g. {@link #rule()}
     * @param advice    what to change, e.g. "raise maxiter or λ"
     * @param earlier   warnings from before this solve (e.g. from {@code prepare}); they come first
     *                  and do not count against convergence
     * @return iterations = the largest count, the recorded residuals and whether every right-hand side converged
     * @throws InversionException ({@link Reason#NOT_CONVERGED}) if one missed its tolerance and
     *     {@code allowUnconverged} is false
     */
    SolverInfo conclude(InversionMethod method, String solver, String tolerance, String advice,
                        boolean allowUnconverged, Logger log, List<String> earlier, Map<String, Object> details) {
        int missed = 0;
        int worst = -1;
        for (int i = 0; i < k; i++) {
            if (unmet[i]) {
                missed++;
                if (worst < 0 || !(residuals[i] <= residuals[worst])) {
                    worst = i;
                }
            }
        }
        if (missed > 0) {
            String why = stop != null ? stop : "the recursive residual met the tolerance but the true residual did not"
                    + (restarts > 0 ? ", also after " + restarts + " restart(s) from it" : "") + ": rounding in the"
                    + " operator's dtype";
            String message = solver + " did not converge (" + why + "): " + missed + " of " + k + " right-hand"
                    + " sides miss " + tolerance + ", the worst relative residual ‖b − A x‖/‖b‖ is "
                    + String.format(Locale.ROOT, "%.3g", residuals[worst]) + " (right-hand side " + worst + ", "
                    + iterations[worst] + " iterations); " + advice;
            if (!allowUnconverged) {
                throw new InversionException(Reason.NOT_CONVERGED, message + ", or keep these numbers with"
                        + " allow_unconverged = true (--allow-unconverged)");
            }
            String warning = message + "; kept because allow_unconverged = true";
            log.warn(warning);
            warnings.add(warning);
        }
        List<String> all = new ArrayList<>(earlier);
        all.addAll(warnings);
        return new SolverInfo(method, Arrays.stream(iterations).max().orElse(0), residuals, missed == 0, all,
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
