package org.influence4j.api;

import java.util.Arrays;

/**
 * The argument checks that every backend's {@link Tensor} and {@link TensorScope} make, in one
 * place so that a wrong shape or a closed tensor is reported with the same message on every
 * backend (the conformance tests in {@code backend-testkit} rely on it).
 *
 * <p>Shapes are passed as {@code long[]} (row-major, as {@link Tensor#shape()} returns them; a
 * scalar is {@code new long[0]}); the checks never modify them. {@code op} is the operation's
 * name, which starts each message (e.g. {@code "add: shapes [2, 3] and [3, 2] differ; ..."}).
 * Each check returns normally when the arguments are valid and otherwise throws
 * {@link IllegalArgumentException} (or {@link IllegalStateException} for a closed tensor or scope).
 */
public final class TensorChecks {

    private TensorChecks() {
    }

    /**
     * Checks a shape given to a scope's factory ({@code fromArray}, {@code zeros}).
     *
     * @param op    the operation's name, for the message
     * @param shape the requested shape
     * @return the number of elements of {@code shape} (1 for a scalar)
     * @throws IllegalArgumentException if {@code shape} is null or has a negative dimension
     * @throws ArithmeticException if the element count overflows a {@code long}
     */
    public static long checkShape(String op, long[] shape) {
        if (shape == null) {
            throw new IllegalArgumentException(op + ": shape must not be null (a scalar is new long[0])");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape)
                        + " has a negative dimension");
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Checks the arguments of {@link TensorScope#fromArray}.
     *
     * @param data  the row-major elements
     * @param shape the requested shape
     * @return the number of elements, {@code data.length}
     * @throws IllegalArgumentException if {@code data} is null, {@code shape} is invalid (see
     *     {@link #checkShape}) or {@code data.length} is not its element count
     * @throws ArithmeticException if the element count overflows a {@code long}
     */
    public static long checkFromArray(double[] data, long[] shape) {
        if (data == null) {
            throw new IllegalArgumentException("fromArray: data must not be null");
        }
        long n = checkShape("fromArray", shape);
        if (n != data.length) {
            throw new IllegalArgumentException("fromArray: data has " + data.length + " values but shape "
                    + Arrays.toString(shape) + " needs " + n);
        }
        return n;
    }

    /**
     * Checks the size of {@link TensorScope#eye}.
     *
     * @param n the number of rows and columns
     * @throws IllegalArgumentException if {@code n} is negative or does not fit an {@code int}
     */
    public static void checkEye(long n) {
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("eye: n must be in [0, 2^31), got " + n);
        }
    }

    /**
     * Checks the operands of an elementwise operation ({@code add}, {@code sub}, {@code mul},
     * {@code axpy}, {@code dot}, {@code rowDots}).
     *
     * @param op the operation's name, for the message
     * @param a  the receiver's shape
     * @param b  the argument's shape
     * @throws IllegalArgumentException if the shapes differ
     */
    public static void checkSameShape(String op, long[] a, long[] b) {
        if (!Arrays.equals(a, b)) {
            throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " differ; both operands must have the same shape");
        }
    }

    /**
     * Checks the operands of {@link Tensor#matmul}: {@code [a,b] x [b,c]} or {@code [a,b] x [b]}.
     *
     * @param a the receiver's shape
     * @param b the argument's shape
     * @throws IllegalArgumentException if {@code a} is not a matrix, {@code b} is not a matrix or
     *     vector, or the inner dimensions differ
     */
    public static void checkMatmul(long[] a, long[] b) {
        if (a.length != 2 || (b.length != 1 && b.length != 2) || a[1] != b[0]) {
            throw new IllegalArgumentException("matmul: shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " do not align; expected [a,b] x [b,c] or [a,b] x [b]");
        }
    }

    /**
     * Checks the receiver of {@link Tensor#transpose()}.
     *
     * @param a the receiver's shape
     * @throws IllegalArgumentException if it is not a matrix
     */
    public static void checkTranspose(long[] a) {
        if (a.length != 2) {
            throw new IllegalArgumentException("transpose: needs a matrix, got shape " + Arrays.toString(a));
        }
    }

    /**
     * Checks the receiver of {@link Tensor#spdInverse()}.
     *
     * @param a the receiver's shape
     * @throws IllegalArgumentException if it is not a square matrix {@code [n, n]}
     */
    public static void checkSquare(long[] a) {
        if (a.length != 2 || a[0] != a[1]) {
            throw new IllegalArgumentException("spdInverse: needs a square matrix [n, n], got shape "
                    + Arrays.toString(a));
        }
    }

    /**
     * Checks the receiver of {@link Tensor#rowDots}, after {@link #checkSameShape} has checked that
     * the argument has the same shape.
     *
     * @param a the receiver's shape
     * @throws IllegalArgumentException if it is not a matrix {@code [k,p]}
     */
    public static void checkRowDots(long[] a) {
        if (a.length != 2) {
            throw new IllegalArgumentException("rowDots: needs two matrices [k,p], got shape " + Arrays.toString(a));
        }
    }

    /**
     * Checks the operands of {@link Tensor#scaleRows}: a matrix {@code [k,p]} and factors {@code [k]}.
     *
     * @param a the receiver's shape
     * @param f the factors' shape
     * @throws IllegalArgumentException if they do not have these shapes
     */
    public static void checkScaleRows(long[] a, long[] f) {
        if (a.length != 2 || f.length != 1 || f[0] != a[0]) {
            throw new IllegalArgumentException("scaleRows: needs a matrix [k,p] and factors [k], got shapes "
                    + Arrays.toString(a) + " and " + Arrays.toString(f));
        }
    }

    /**
     * Checks the range of {@link Tensor#rows}: {@code 0 <= from <= to <= a[0]}.
     *
     * @param a    the receiver's shape
     * @param from the first row (inclusive)
     * @param to   the end row (exclusive)
     * @throws IllegalArgumentException if the receiver is a scalar or the range lies outside its rows
     */
    public static void checkRows(long[] a, long from, long to) {
        if (a.length == 0) {
            throw new IllegalArgumentException("rows: a scalar has no rows");
        }
        if (from < 0 || to > a[0] || from > to) {
            throw new IllegalArgumentException("rows: range [" + from + ", " + to + ") is outside the "
                    + a[0] + " rows of shape " + Arrays.toString(a));
        }
    }

    /**
     * Checks the arguments of {@link Tensor#gatherRows}.
     *
     * @throws IllegalArgumentException if {@code a} is not a matrix or an index is outside its rows
     */
    public static void checkGatherRows(long[] a, int[] index) {
        if (a.length != 2) {
            throw new IllegalArgumentException("gatherRows: needs a matrix, got shape " + Arrays.toString(a));
        }
        for (int r : index) {
            if (r < 0 || r >= a[0]) {
                throw new IllegalArgumentException("gatherRows: row " + r + " is outside the " + a[0]
                        + " rows of shape " + Arrays.toString(a));
            }
        }
    }

    /**
     * Checks the new shape of {@link Tensor#reshape}.
     *
     * @param a        the receiver's shape
     * @param newShape the requested shape
     * @return the number of elements of {@code newShape} (equal to that of {@code a})
     * @throws IllegalArgumentException if {@code newShape} is null, has a negative dimension, or
     *     has another element count than {@code a}
     */
    public static long checkReshape(long[] a, long[] newShape) {
        if (newShape == null) {
            throw new IllegalArgumentException("reshape: newShape must not be null");
        }
        long n = 1;
        for (long d : newShape) {
            if (d < 0) {
                throw new IllegalArgumentException("reshape: shape " + Arrays.toString(newShape)
                        + " has a negative dimension");
            }
            n *= d;
        }
        long numel = 1;
        for (long d : a) {
            numel *= d;
        }
        if (n != numel) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Arrays.toString(a) + " (" + numel
                    + " elements) to " + Arrays.toString(newShape) + " (" + n + " elements)");
        }
        return n;
    }

    /**
     * Checks the operands of {@link Tensor#concat}: the same rank (at least 1) and the same
     * dimensions except dimension 0.
     *
     * @param a the receiver's shape
     * @param b the argument's shape
     * @throws IllegalArgumentException if they cannot be stacked along dimension 0
     */
    public static void checkConcat(long[] a, long[] b) {
        boolean ok = a.length >= 1 && a.length == b.length;
        for (int i = 1; ok && i < a.length; i++) {
            ok = a[i] == b[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("concat: shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " cannot be stacked along dimension 0; all other dimensions must agree");
        }
    }

    /**
     * Checks that a tensor argument belongs to the expected backend (it does not check that it is
     * open: that is the backend's state).
     *
     * @param type     the backend's tensor class
     * @param t        the argument
     * @param argument the argument's name, for the message
     * @param expected what was expected, with its article, e.g. {@code "a djl-pytorch tensor"}
     * @return {@code t} as a {@code type}
     * @throws IllegalArgumentException if {@code t} is null or not a {@code type}
     */
    public static <T extends Tensor> T requireType(Class<T> type, Tensor t, String argument, String expected) {
        if (!type.isInstance(t)) {
            throw new IllegalArgumentException(argument + ": expected " + expected + ", got "
                    + (t == null ? "null" : t.getClass().getName()));
        }
        return type.cast(t);
    }

    /**
     * Refuses to use a closed tensor.
     *
     * @param closed whether the tensor (or its scope) was closed
     * @throws IllegalStateException if {@code closed}
     */
    public static void checkTensorOpen(boolean closed) {
        if (closed) {
            throw new IllegalStateException("tensor is closed (close() was called or its scope was closed)");
        }
    }

    /**
     * Refuses to create tensors in a closed scope.
     *
     * @param closed whether the scope (or a parent) was closed
     * @throws IllegalStateException if {@code closed}
     */
    public static void checkScopeOpen(boolean closed) {
        if (closed) {
            throw new IllegalStateException("tensor scope is closed; create tensors in an open scope");
        }
    }

    /**
     * For a model call that wraps its results in a caller's scope.
     *
     * @param closed whether that scope is closed
     * @throws IllegalStateException if it is
     */
    public static void checkResultScopeOpen(boolean closed) {
        if (closed) {
            throw new IllegalStateException("scope: is closed; pass an open scope for the results");
        }
    }
}
