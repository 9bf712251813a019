package org.influence4j.api;

import java.util.Optional;
import org.influence4j.api.internal.BlockSpdInverse;

/**
 * A dense array that lives in a backend's memory (native memory for DJL and ND4J).
 *
 * <p><b>Lifetime.</b> Every tensor belongs to the {@link TensorScope} it was created in; results
 * of operations belong to the scope of the receiver ({@code this}). Closing the scope frees all
 * its tensors; {@link #close()} frees one early. A result that must outlive its scope is moved
 * with {@link #moveTo(TensorScope)}.
 *
 * <p><b>Shapes.</b> Row-major (C order). Vectors have shape {@code [p]}, matrices {@code [rows, cols]}.
 * Operations never modify the receiver or their arguments; they return new tensors.
 *
 * <p><b>Precision.</b> The dtype of a result is the dtype of the receiver; arguments of another
 * dtype are converted. Scalar results ({@link #dot}, {@link #norm}) are returned as double.
 */
public interface Tensor extends AutoCloseable {

    /** @return a copy of the shape */
    long[] shape();

    /** @return the element type */
    DType dtype();

    /** @return the scope that owns this tensor */
    TensorScope scope();

    /** @return the number of dimensions */
    default int rank() {
        return shape().length;
    }

    /** @return the number of elements (product of the shape) */
    default long numel() {
        long n = 1;
        for (long d : shape()) {
            n *= d;
        }
        return n;
    }

    /**
     * Matrix product. {@code [a,b] x [b,c] -> [a,c]}, {@code [a,b] x [b] -> [a]}.
     *
     * @throws IllegalArgumentException if the inner dimensions differ
     */
    Tensor matmul(Tensor other);

    /** @return the transpose of a matrix {@code [a,b] -> [b,a]} */
    Tensor transpose();

    /** @return {@code this + other} elementwise (same shape) */
    Tensor add(Tensor other);

    /** @return {@code this - other} elementwise (same shape) */
    Tensor sub(Tensor other);

    /** @return {@code this * other} elementwise (same shape) */
    Tensor mul(Tensor other);

    /** @return {@code alpha * this} */
    Tensor scale(double alpha);

    /** @return {@code this + alpha * x} (same shape) */
    Tensor axpy(double alpha, Tensor x);

    /** @return the full contraction {@code sum(this * other)} of two tensors of the same shape */
    double dot(Tensor other);

    /** @return the Euclidean (Frobenius) norm */
    double norm();

    /**
     * Row-wise dot products of two matrices of the same shape {@code [k,p]}.
     *
     * @return a vector {@code [k]} with {@code out[i] = <this[i,:], other[i,:]>}
     */
    Tensor rowDots(Tensor other);

    /**
     * Scales each row of a matrix {@code [k,p]} by the matching entry of a vector {@code [k]}.
     *
     * @return {@code out[i,:] = factors[i] * this[i,:]}
     */
    Tensor scaleRows(Tensor factors);

    /**
     * The inverse of a symmetric positive-definite matrix, computed on the backend.
     *
     * <p>The receiver is a square matrix {@code [n, n]}; only its upper triangle (the diagonal and
     * above) is read, the lower one is taken as its mirror image, as LAPACK's {@code uplo = 'U'}. The
     * result is a new {@code [n, n]} matrix in the receiver's dtype and scope (symmetric up to
     * rounding), with a relative error of about {@code κ(A)·ε} of that dtype: callers that need
     * accuracy pass a float64 matrix. It is {@link Optional#empty() empty} when the matrix is not
     * positive definite in that precision (a Cholesky pivot is not positive, as LAPACK's
     * {@code potrf} reports it) or has a non-finite entry in its upper triangle; the caller then
     * diagnoses the matrix in its own way (e.g. its eigenvalues). A positive-definite but very
     * ill-conditioned matrix yields an inverse with large (possibly non-finite) entries: judge the
     * condition number from the result.
     *
     * <p>The default is {@link BlockSpdInverse}: a recursion on Schur complements whose work is matrix
     * products of this backend ({@link #matmul}, about {@code 4n³/3} flops), with Cholesky on the host
     * only for diagonal blocks of at most {@value BlockSpdInverse#LEAF} rows. Backends override it
     * with their engine's LAPACK where that is faster.
     *
     * @return the inverse, or empty if the matrix is not (numerically) positive definite
     * @throws IllegalArgumentException if the receiver is not a square matrix
     */
    default Optional<Tensor> spdInverse() {
        return BlockSpdInverse.invert(this);
    }

    /** @return rows {@code [from, to)} along dimension 0 */
    Tensor rows(long from, long to);

    /**
     * Rows of a matrix by index: {@code [r, c] -> [len, c]}, row j of the result is row
     * {@code index[j]} (indices may repeat). The default copies through the host; backends gather
     * natively.
     *
     * @throws IllegalArgumentException if this is not a matrix or an index is outside {@code [0, r)}
     */
    default Tensor gatherRows(int[] index) {
        long[] s = shape();
        TensorChecks.checkGatherRows(s, index);
        int columns = Math.toIntExact(s[1]);
        double[] values = toDoubleArray();
        double[] out = new double[Math.multiplyExact(index.length, columns)];
        for (int j = 0; j < index.length; j++) {
            System.arraycopy(values, index[j] * columns, out, j * columns, columns);
        }
        return scope().fromArray(out, dtype(), index.length, columns);
    }

    /** @return the same data with another shape of equal element count */
    Tensor reshape(long... newShape);

    /** @return {@code this} and {@code other} stacked along dimension 0 (other dims must agree) */
    Tensor concat(Tensor other);

    /** @return a converted copy in {@code dtype} (or a new handle on the same data when equal) */
    Tensor toType(DType dtype);

    /** @return all elements in row-major order, converted to double */
    double[] toDoubleArray();

    /** @return all elements in row-major order, converted to float */
    float[] toFloatArray();

    /**
     * Transfers ownership of this tensor to {@code target}, so that it survives when its current
     * scope closes. Both scopes must belong to the same backend.
     *
     * @return this tensor (now owned by {@code target})
     */
    Tensor moveTo(TensorScope target);

    /** Frees the tensor's memory now; using it afterwards is an error. Idempotent. */
    @Override
    void close();
}
