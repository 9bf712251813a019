package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.decomposition.chol.CholeskyDecompositionInner_DDRM;
import org.ejml.dense.row.linsol.chol.LinearSolverChol_DDRM;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.decomposition.LUDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exact inversion (pyDVL's {@code DirectInfluence}): {@link #prepare} materialises the dense matrix
 * {@code A = H + λI} ({@link HessianOperator#toMatrix}, one data pass), copies it to the host in
 * double precision and factorises it with EJML.
 *
 * <ul>
 *   <li>Cholesky when A is positive definite (the normal case at a minimum of a convex loss);</li>
 *   <li>otherwise LU with partial pivoting, and every {@link SolverInfo} of this inverse carries a
 *       warning that A is indefinite, i.e. θ is not at a minimum, and that a larger λ is advised;</li>
 *   <li>a (numerically) singular A is refused with an {@link InversionException} advising λ &gt; 0.</li>
 * </ul>
 * Memory is {@code p²} doubles on the Java heap and time {@code O(p³)}: for small p only.
 * {@code solve} returns solutions in the dtype of the right-hand sides with the relative residuals
 * {@code ‖b − A x‖ / ‖b‖} computed in double. The solver is immutable and thread-safe; the
 * prepared inverse is not.
 */
public final class DirectSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(DirectSolver.class);

    /** Relative pivot size (per unit of dimension) below which A counts as singular. */
    private static final double SINGULAR_PIVOT = 1e-15;

    /** Dimension above which preparing is logged as expensive. */
    private static final int LARGE = 10_000;

    @Override
    public InversionMethod method() {
        return InversionMethod.DIRECT;
    }

    /**
     * {@inheritDoc}
     *
     * @throws InversionException if A has non-finite entries or is numerically singular
     */
    @Override
    public InverseHessian prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        int p = operator.dimension();
        if (p > LARGE) {
            LOG.warn("direct inversion of p = {} parameters needs {} MB of heap for the dense Hessian and O(p³)"
                    + " time; consider the cg method", p, 3L * p * p * Double.BYTES / (1 << 20));
        }
        double[] values;
        try (TensorScope scope = operator.model().backend().newScope(); Tensor a = operator.toMatrix(scope)) {
            long[] shape = a.shape();
            if (shape.length != 2 || shape[0] != p || shape[1] != p) {
                throw new IllegalStateException("operator: toMatrix returned shape " + Arrays.toString(shape)
                        + " but the operator has dimension " + p);
            }
            values = a.toDoubleArray();
        }
        DMatrixRMaj matrix = new DMatrixRMaj(p, p);
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                double v = 0.5 * (values[i * p + j] + values[j * p + i]);
                if (!Double.isFinite(v)) {
                    throw new InversionException(Reason.NON_FINITE,
                            "the Hessian has a non-finite entry at (" + i + ", " + j + "): "
                            + values[i * p + j] + "; check the model parameters and the training data");
                }
                matrix.set(i, j, v);
            }
        }
        return factorise(matrix, operator.regularization());
    }

    private static DirectInverse factorise(DMatrixRMaj matrix, double lambda) {
        int p = matrix.numRows;
        List<String> warnings = new ArrayList<>();
        // Row-major Cholesky at every size: LinearSolverFactory_DDRM.chol(p) switches to a block
        // decomposition for p >= 1000 whose getT returns a DMatrixRBlock, not a DMatrixRMaj.
        LinearSolverDense<DMatrixRMaj> chol = new LinearSolverChol_DDRM(new CholeskyDecompositionInner_DDRM(true));
        if (chol.setA(matrix.copy())) {
            @SuppressWarnings("unchecked")
            DMatrixRMaj lower = ((CholeskyDecomposition_F64<DMatrixRMaj>) chol.getDecomposition()).getT(null);
            double min = Double.POSITIVE_INFINITY;
            double max = 0;
            for (int i = 0; i < p; i++) {
                double d = lower.get(i, i) * lower.get(i, i);
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            if (!(min > SINGULAR_PIVOT * Math.max(p, 10) * max)) {
                throw singular(lambda, min / max);
            }
            return new DirectInverse(matrix, chol, "cholesky", warnings);
        }
        LinearSolverDense<DMatrixRMaj> lu = LinearSolverFactory_DDRM.lu(p);
        if (!lu.setA(matrix.copy())) {
            throw singular(lambda, 0);
        }
        LUDecomposition_F64<DMatrixRMaj> decomposition = lu.getDecomposition();
        DMatrixRMaj upper = decomposition.getUpper(null);
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (int i = 0; i < p; i++) {
            double d = Math.abs(upper.get(i, i));
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        if (decomposition.isSingular() || !(min > SINGULAR_PIVOT * Math.max(p, 10) * max)) {
            throw singular(lambda, max > 0 ? min / max : 0);
        }
        String warning = "H + λI (λ = " + lambda + ") is indefinite (Cholesky failed): the parameters are not at a"
                + " minimum of the training loss, so the influences are unreliable; train to convergence or"
                + " increase the hessian regularization λ until H + λI is positive definite. Solved with LU instead.";
        LOG.warn(warning);
        warnings.add(warning);
        return new DirectInverse(matrix, lu, "lu", warnings);
    }

    private static InversionException singular(double lambda, double pivotRatio) {
        return new InversionException(Reason.SINGULAR,
                "H + λI (λ = " + lambda + ") is singular (smallest/largest pivot "
                + pivotRatio + "): the Hessian has (numerically) zero eigenvalues, e.g. redundant parameters"
                + " or features; use a hessian regularization λ > 0 (e.g. 0.01)");
    }

    /** The factorised matrix. Not thread-safe (EJML solvers keep work arrays). */
    private static final class DirectInverse implements InverseHessian {
        private final DMatrixRMaj matrix;
        private final LinearSolverDense<DMatrixRMaj> solver;
        private final String factorization;
        private final List<String> warnings;
        private boolean closed;

        DirectInverse(DMatrixRMaj matrix, LinearSolverDense<DMatrixRMaj> solver, String factorization,
                      List<String> warnings) {
            this.matrix = matrix;
            this.solver = solver;
            this.factorization = factorization;
            this.warnings = List.copyOf(warnings);
        }

        @Override
        public InverseHvpResult solve(Tensor rhs, TensorScope scope) {
            InverseChecks.requireOpen(closed, "direct");
            int p = matrix.numRows;
            long[] shape = rhs.shape();
            boolean vector = shape.length == 1;
            if (!(vector && shape[0] == p) && !(shape.length == 2 && shape[1] == p)) {
                throw new IllegalArgumentException("rhs: shape " + Arrays.toString(shape) + " is not [" + p
                        + "] or [k, " + p + "]");
            }
            int k = vector ? 1 : (int) shape[0];
            double[] b = rhs.toDoubleArray();
            DMatrixRMaj bt = new DMatrixRMaj(p, k);
            for (int r = 0; r < k; r++) {
                for (int i = 0; i < p; i++) {
                    double v = b[r * p + i];
                    if (!Double.isFinite(v)) {
                        throw new IllegalArgumentException("rhs: row " + r + " has a non-finite value " + v
                                + " at index " + i);
                    }
                    bt.set(i, r, v);
                }
            }
            DMatrixRMaj xt = new DMatrixRMaj(p, k);
            solver.solve(bt.copy(), xt);
            DMatrixRMaj ax = new DMatrixRMaj(p, k);
            CommonOps_DDRM.mult(matrix, xt, ax);
            double[] x = new double[k * p];
            double[] residuals = new double[k];
            for (int r = 0; r < k; r++) {
                double rr = 0;
                double bb = 0;
                for (int i = 0; i < p; i++) {
                    double bi = bt.unsafe_get(i, r);
                    double d = bi - ax.unsafe_get(i, r);
                    rr += d * d;
                    bb += bi * bi;
                    x[r * p + i] = xt.unsafe_get(i, r);
                }
                residuals[r] = bb > 0 ? Math.sqrt(rr / bb) : Math.sqrt(rr);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("factorization", factorization);
            details.put("dimension", p);
            SolverInfo info = new SolverInfo(InversionMethod.DIRECT, 0, residuals, true, warnings, details);
            return new InverseHvpResult(scope.fromArray(x, rhs.dtype(), shape), info);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Override
    public String toString() {
        return "DirectSolver";
    }
}
