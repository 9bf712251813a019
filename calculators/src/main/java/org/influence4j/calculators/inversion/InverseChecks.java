package org.influence4j.calculators.inversion;

import java.util.Arrays;
import org.influence4j.api.Tensor;

/** The argument checks and result layout shared by the prepared inverses of the solvers. */
final class InverseChecks {

    private InverseChecks() {
    }

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

    /**
     * @param values     row-major right-hand sides {@code [k, p]}
     * @param firstRow   the row number of {@code values[0]} in the caller's right-hand sides
     * @throws IllegalArgumentException naming the row, index and value of the first NaN or infinity
     */
    static void requireFinite(double[] values, int p, int firstRow) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException("rhs: row " + (firstRow + i / p) + " has a non-finite value "
                        + values[i] + " at index " + i % p);
            }
        }
    }

    /**
     * {@link #requireFinite(double[], int, int)} without copying the rows to the host: their sums of
     * squares are taken on the backend, and only a row whose sum is not finite (a NaN or infinity,
     * or squares past the type's range) is copied and checked value by value.
     *
     * @param rows right-hand sides {@code [k, p]}
     * @return the rows' sums of squares {@code [k]}
     * @throws IllegalArgumentException naming the row, index and value of the first NaN or infinity
     */
    static double[] requireFiniteRows(Tensor rows) {
        double[] squares;
        try (Tensor dots = rows.rowDots(rows)) {
            squares = dots.toDoubleArray();
        }
        for (int r = 0; r < squares.length; r++) {
            if (!Double.isFinite(squares[r])) {
                try (Tensor row = rows.rows(r, r + 1)) {
                    requireFinite(row.toDoubleArray(), (int) row.numel(), r);
                }
            }
        }
        return squares;
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
}
