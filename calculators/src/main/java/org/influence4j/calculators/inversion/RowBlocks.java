package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;

/**
 * Row-block helpers of the iterative solvers: blocks of k right-hand sides {@code [k, p]} solved
 * in lockstep, their starting point, rows selected by position, and concatenation.
 */
final class RowBlocks {

    private RowBlocks() {
    }

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

    /**
     * The squared true residual norms {@code ‖b_i − A x_i‖²}: {@code A x} by one operator
     * application in the operator's dtype, the subtraction and the sums in float64 (so that no
     * rounding of the model dtype hides a residual above the tolerance).
     *
     * @param b the right-hand sides {@code [k, p]} in any dtype, e.g. the caller's (not consumed)
     * @param x the solutions {@code [k, p]} in the operator dtype (not consumed)
     * @return {@code ‖b_i − A x_i‖²}, one per row
     */
    static double[] residualSquares(HessianOperator operator, Tensor b, Tensor x, TensorScope work) {
        try (Tensor ax = operator.apply(x, work); Tensor ax64 = ax.toType(DType.FLOAT64);
             Tensor b64 = b.toType(DType.FLOAT64); Tensor r = b64.sub(ax64)) {
            return rowDots(r, r);
        }
    }

    /**
     * @param t         a block {@code [k, p]} (not consumed)
     * @param positions rows of {@code t} (increasing)
     * @param rows      their replacements {@code [positions.length, p]} (not consumed)
     * @return a new block: {@code t} with row {@code positions[j]} replaced by row j of {@code rows}
     */
    static Tensor replaceRows(Tensor t, int[] positions, Tensor rows) {
        List<Tensor> parts = new ArrayList<>();
        int next = 0;
        for (int j = 0; j < positions.length; j++) {
            if (positions[j] > next) {
                parts.add(t.rows(next, positions[j]));
            }
            parts.add(rows.rows(j, j + 1L));
            next = positions[j] + 1;
        }
        if (next < t.shape()[0]) {
            parts.add(t.rows(next, t.shape()[0]));
        }
        return concatAll(parts);
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
