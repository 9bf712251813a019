package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
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
 * that left the block, collects the warnings and builds the {@link SolverInfo}. Its static methods
 * are the argument checks and row-block helpers shared by the inverses of the package. Not
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
        this.bNorm = sqrt(rowDots(b, b));
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
        finish(active, allRows(active.length), x, rr);
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
        return concatAll(new ArrayList<>(Arrays.asList(finished)));
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

    // ---- argument checks shared by the inverses -----------------------------------------------

    /**
     * @throws IllegalStateException naming the inverse ({@code "CG"}, {@code "LiSSA"}, ...) if it was closed
     */
    static void requireOpen(boolean closed, String name) {
        if (closed) {
            throw new IllegalStateException("this " + name + " inverse was closed; prepare the solver again");
        }
    }

    /**
     * @return k: 1 for {@code rhs} of shape {@code [p]}, k for {@code [k, p]} with k ≥ 1
     * @throws IllegalArgumentException naming {@code rhs} for any other shape
     */
    static int requireRhsShape(Tensor rhs, int p) {
        long[] shape = rhs.shape();
        boolean vector = shape.length == 1;
        if (!(vector && shape[0] == p) && !(shape.length == 2 && shape[1] == p && shape[0] > 0)) {
            throw new IllegalArgumentException("rhs: shape " + Arrays.toString(shape) + " is not [" + p
                    + "] or [k, " + p + "]");
        }
        return vector ? 1 : (int) shape[0];
    }

    /** @throws IllegalArgumentException naming {@code x0} if it is given and its shape is not that of {@code rhs} */
    static void requireGuessShape(Tensor x0, Tensor rhs) {
        if (x0 != null && !Arrays.equals(x0.shape(), rhs.shape())) {
            throw new IllegalArgumentException("x0: shape " + Arrays.toString(x0.shape())
                    + " differs from the right-hand sides' shape " + Arrays.toString(rhs.shape()));
        }
    }

    /** @return solutions {@code x [k, p]} in the dtype and shape of {@code rhs}; consumes {@code x} */
    static Tensor toCallerLayout(Tensor x, Tensor rhs) {
        if (x.dtype() != rhs.dtype()) {
            Tensor converted = x.toType(rhs.dtype());
            x.close();
            x = converted;
        }
        if (!Arrays.equals(x.shape(), rhs.shape())) {
            Tensor reshaped = x.reshape(rhs.shape());
            x.close();
            x = reshaped;
        }
        return x;
    }

    // ---- row blocks ---------------------------------------------------------------------------

    /**
     * The starting point of CG: {@code x = x0} and {@code r = b − A x0}, or {@code x = 0} and
     * {@code r = b} without a guess.
     *
     * @param x the starting solutions, owned by work
     * @param r their residuals, owned by work
     */
    record Start(Tensor x, Tensor r) {
        /**
         * @param b  right-hand sides {@code [k, p]} in the operator dtype, owned by work (consumed)
         * @param x0 initial guesses of the same shape or {@code null}, owned by work (consumed)
         */
        static Start of(HessianOperator operator, Tensor b, Tensor x0, TensorScope work) {
            if (x0 == null) {
                return new Start(work.zeros(operator.dtype(), b.shape()), b);
            }
            Tensor r;
            try (Tensor ax = operator.apply(x0, work)) {
                r = b.sub(ax);
            }
            b.close();
            return new Start(x0, r);
        }
    }

    /** @return {@code {0, 1, …, n − 1}}: every row of a block */
    static int[] allRows(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    /** @return the dot products of corresponding rows of {@code a} and {@code b} on the host */
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

    /** @return {@code values[positions[j]]} for every j */
    static int[] select(int[] values, int[] positions) {
        int[] out = new int[positions.length];
        for (int j = 0; j < positions.length; j++) {
            out[j] = values[positions[j]];
        }
        return out;
    }

    /** @return {@code values[positions[j]]} for every j */
    static double[] select(double[] values, int[] positions) {
        double[] out = new double[positions.length];
        for (int j = 0; j < positions.length; j++) {
            out[j] = values[positions[j]];
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
