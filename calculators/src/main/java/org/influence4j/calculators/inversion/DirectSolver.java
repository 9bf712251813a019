package org.influence4j.calculators.inversion;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.decomposition.chol.CholeskyDecompositionInner_DDRM;
import org.ejml.dense.row.linsol.chol.LinearSolverChol_DDRM;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.LUDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;
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
 * Exact inversion (pyDVL's {@code DirectInfluence}): {@link #prepare} materialises the dense matrix
 * {@code A = H + λI} ({@link HessianOperator#toMatrix}, one data pass), copies it to the host in
 * double precision and factorises it with EJML.
 *
 * <ul>
 *   <li>Cholesky when A is positive definite (the normal case at a minimum of a convex loss), then a
 *       <b>condition number estimate</b>: {@code κ₁ = ‖A‖₁·‖A⁻¹‖₁} with {@code ‖A⁻¹‖₁} estimated by
 *       Hager's method with Higham's refinement (LAPACK's {@code dpocon}) from a few solves with the
 *       Cholesky factor, O(p²) next to the O(p³/3) factorisation; an eigendecomposition would cost
 *       several factorisations. κ₁ bounds the 2-norm condition number from above and is within a
 *       factor p of it; the estimate is a lower bound of κ₁, in practice within a factor 3.</li>
 *   <li>A is <b>numerically singular</b> when the estimate exceeds {@code 1/(100·ε)} of the dtype the
 *       Hessian was computed in (about 4.5e13 in float64, the spirit of EK-FAC's 1e13; 8.4e4 in
 *       float32, whose entries carry relative errors of about 6e-8): its smallest eigenvalues are
 *       within a factor 100 of the rounding noise, and so is every solution. It is refused with an
 *       {@link InversionException} of reason {@link Reason#SINGULAR} giving the estimate and the λ
 *       that brings the condition number down to 1e8 (float64) or below {@code 1/(ε·1e4)}.</li>
 *   <li>When Cholesky fails, the eigenvalues of A (values only) tell an indefinite matrix from a
 *       singular one: a smallest eigenvalue θ below {@code −max|θ|/threshold} is <b>negative
 *       curvature</b> (θ is not at a minimum) and refused with {@link Reason#NEGATIVE_CURVATURE},
 *       giving θ and the λ that makes A positive definite, unless
 *       {@link DirectOptions#allowIndefinite()}: then LU with partial pivoting solves it and every
 *       {@link SolverInfo} of this inverse carries a warning; anything else is {@link Reason#SINGULAR}.</li>
 * </ul>
 * Memory is {@code p²} doubles on the Java heap and time {@code O(p³)}: for small p only.
 * {@code solve} returns solutions in the dtype of the right-hand sides with the relative residuals
 * {@code ‖b − A x‖ / ‖b‖} computed in double; details hold {@code "factorization"},
 * {@code "dimension"} and {@code "conditionEstimate"} (Cholesky) or {@code "smallestEigenvalue"}
 * (LU). The solver is immutable and thread-safe; the prepared inverse is not.
 */
public final class DirectSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(DirectSolver.class);

    /** Relative pivot size (per unit of dimension) below which the LU factors count as singular. */
    private static final double SINGULAR_PIVOT = 1e-15;

    /** Dimension above which preparing is logged as expensive. */
    private static final int LARGE = 10_000;

    /** The condition number the suggested λ aims at in float64 (as EK-FAC's suggestion). */
    private static final double TARGET_CONDITION = 1e8;

    private final DirectOptions options;
    private final ProgressListener progress;

    /** A solver with {@link DirectOptions#defaults()}: indefinite matrices are refused. */
    public DirectSolver() {
        this(DirectOptions.defaults());
    }

    /** @param options whether an indefinite matrix is solved by LU */
    public DirectSolver(DirectOptions options) {
        this(options, ProgressListener.NONE);
    }

    /**
     * @param options  whether an indefinite matrix is solved by LU
     * @param progress receives the task {@code "Direct (p = …)"} of {@link #prepare} in two steps: the
     *                 matrix, then its factorisation
     */
    public DirectSolver(DirectOptions options, ProgressListener progress) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use DirectOptions.defaults()");
        }
        if (progress == null) {
            throw new IllegalArgumentException("progress: must not be null; use ProgressListener.NONE");
        }
        this.options = options;
        this.progress = progress;
    }

    @Override
    public DirectSolver withProgress(ProgressListener listener) {
        return new DirectSolver(options, listener);
    }

    /** @return the options */
    public DirectOptions options() {
        return options;
    }

    @Override
    public InversionMethod method() {
        return InversionMethod.DIRECT;
    }

    /**
     * {@inheritDoc}
     *
     * @throws InversionException if A has non-finite entries ({@link Reason#NON_FINITE}), is
     *     numerically singular ({@link Reason#SINGULAR}) or, unless allowed, indefinite
     *     ({@link Reason#NEGATIVE_CURVATURE})
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
        return progress.task("Direct (p = " + p + ")", 2, () -> prepare(operator, p));
    }

    private DirectInverse prepare(HessianOperator operator, int p) {
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
        progress.step(1);
        DirectInverse inverse = factorise(matrix, new Conditioning(operator.regularization(), operator.dtype(),
                NormOps_DDRM.inducedP1(matrix)));
        progress.step(1);
        return inverse;
    }

    private DirectInverse factorise(DMatrixRMaj matrix, Conditioning c) {
        int p = matrix.numRows;
        // Row-major Cholesky at every size: LinearSolverFactory_DDRM.chol(p) switches to a block
        // decomposition for p >= 1000 whose getT returns a DMatrixRBlock, not a DMatrixRMaj.
        LinearSolverDense<DMatrixRMaj> chol = new LinearSolverChol_DDRM(new CholeskyDecompositionInner_DDRM(true));
        if (chol.setA(matrix.copy())) {
            double condition = c.norm() * inverseNormEstimate(chol, p);
            if (!(condition <= c.threshold())) {
                throw c.singular("condition number estimate " + format(condition) + " (1-norm, from the Cholesky"
                        + " factor)");
            }
            return new DirectInverse(matrix, chol, "cholesky", condition, List.of());
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(p, false, true);
        if (!eig.decompose(matrix.copy())) {
            throw c.singular("its eigenvalues did not converge");
        }
        double smallest = Double.POSITIVE_INFINITY;
        double largest = 0;
        for (int i = 0; i < p; i++) {
            double v = eig.getEigenvalue(i).getReal();
            smallest = Math.min(smallest, v);
            largest = Math.max(largest, Math.abs(v));
        }
        if (!(smallest < -largest / c.threshold())) {
            throw c.singular("smallest eigenvalue " + format(smallest) + " against the largest " + format(largest)
                    + (smallest > 0 ? " (condition number " + format(largest / smallest) + ")" : ""));
        }
        double positiveFrom = c.lambda() - smallest;
        String indefinite = "H + λI (λ = " + c.lambda() + ") is indefinite: its smallest eigenvalue is "
                + format(smallest) + ", so the parameters are not at a minimum of the training loss and the"
                + " influences are unreliable; H + λI is positive definite only for λ > " + format(positiveFrom);
        if (!options.allowIndefinite()) {
            throw new InversionException(Reason.NEGATIVE_CURVATURE, indefinite + ": raise the hessian regularization"
                    + " λ to at least " + formatUp(positiveFrom + c.shift()) + ", use the positive semi-definite"
                    + " Gauss-Newton curvature (--curvature gauss-newton), train to convergence, or solve it by LU"
                    + " with the direct setting allow_indefinite = true (influence.inversion.direct.allow_indefinite)");
        }
        LinearSolverDense<DMatrixRMaj> lu = LinearSolverFactory_DDRM.lu(p);
        if (!lu.setA(matrix.copy())) {
            throw c.singular("the LU factorisation failed");
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
            throw c.singular("smallest/largest LU pivot " + format(max > 0 ? min / max : 0));
        }
        String warning = indefinite + "; solved with LU because allow_indefinite = true";
        LOG.warn(warning);
        return new DirectInverse(matrix, lu, "lu", smallest, List.of(warning));
    }

    /**
     * How close to singular A may be: λ, the dtype the Hessian was computed in, and {@code ‖A‖₁}.
     *
     * @param lambda the regularization λ of A = H + λI
     * @param dtype  the dtype of the operator (its rounding decides the threshold)
     * @param norm   {@code ‖A‖₁}, the largest absolute column sum
     */
    private record Conditioning(double lambda, DType dtype, double norm) {

        /** @return {@code 1/(100·ε)} of the dtype: the largest condition number accepted */
        double threshold() {
            return 1 / (100 * epsilon());
        }

        /** @return the λ increment that brings the condition number to about 1e8 (float64) or {@code 1/(ε·1e4)} */
        double shift() {
            return norm * Math.max(1 / TARGET_CONDITION, 100 / threshold());
        }

        private double epsilon() {
            return dtype == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f);
        }

        /** @return the refusal of a numerically singular A, {@code why} being the evidence */
        InversionException singular(String why) {
            return new InversionException(Reason.SINGULAR, "H + λI (λ = " + lambda + ") is numerically singular: "
                    + why + ", above " + format(threshold()) + " = 1/(100·ε) of " + dtype + " (the dtype of the"
                    + " Hessian): it has (numerically) zero eigenvalues, e.g. redundant parameters or a duplicated"
                    + " feature; raise the hessian regularization λ to at least " + formatUp(lambda + shift()));
        }
    }

    /**
     * A lower bound of {@code ‖A⁻¹‖₁} for the symmetric A factorised by {@code solver}: Hager's
     * method (at most 5 steps, each two solves) and Higham's alternative vector, as LAPACK's
     * {@code dlacon}.
     */
    private static double inverseNormEstimate(LinearSolverDense<DMatrixRMaj> solver, int p) {
        DMatrixRMaj x = new DMatrixRMaj(p, 1);
        DMatrixRMaj y = new DMatrixRMaj(p, 1);
        CommonOps_DDRM.fill(x, 1.0 / p);
        double estimate = 0;
        int last = -1;
        for (int step = 0; step < 5; step++) {
            solver.solve(x.copy(), y);
            double norm = CommonOps_DDRM.elementSumAbs(y);
            if (step > 0 && norm <= estimate) {
                break;
            }
            estimate = norm;
            DMatrixRMaj sign = new DMatrixRMaj(p, 1);
            for (int i = 0; i < p; i++) {
                sign.set(i, y.get(i) >= 0 ? 1 : -1);
            }
            DMatrixRMaj z = new DMatrixRMaj(p, 1);
            solver.solve(sign, z);
            int j = 0;
            for (int i = 1; i < p; i++) {
                if (Math.abs(z.get(i)) > Math.abs(z.get(j))) {
                    j = i;
                }
            }
            if (j == last || Math.abs(z.get(j)) <= CommonOps_DDRM.dot(z, x)) {
                break;
            }
            last = j;
            x.zero();
            x.set(j, 1);
        }
        DMatrixRMaj alternative = new DMatrixRMaj(p, 1);
        for (int i = 0; i < p; i++) {
            alternative.set(i, (i % 2 == 0 ? 1 : -1) * (1 + (p > 1 ? (double) i / (p - 1) : 0)));
        }
        solver.solve(alternative.copy(), y);
        return Math.max(estimate, 2 * CommonOps_DDRM.elementSumAbs(y) / (3.0 * p));
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** @return {@code v > 0} rounded up to three significant digits, so that a suggested λ is never too small */
    private static String formatUp(double v) {
        double unit = Math.pow(10, Math.floor(Math.log10(v)) - 2);
        return format(Math.ceil(v / unit * (1 - 1e-12)) * unit);
    }

    /** The factorised matrix. Not thread-safe (EJML solvers keep work arrays). */
    private static final class DirectInverse implements InverseHessian {
        private final DMatrixRMaj matrix;
        private final LinearSolverDense<DMatrixRMaj> solver;
        private final String factorization;
        private final double diagnostic;
        private final List<String> warnings;
        private boolean closed;

        /**
         * @param diagnostic the condition number estimate (Cholesky) or the smallest eigenvalue (LU)
         */
        DirectInverse(DMatrixRMaj matrix, LinearSolverDense<DMatrixRMaj> solver, String factorization,
                      double diagnostic, List<String> warnings) {
            this.matrix = matrix;
            this.solver = solver;
            this.factorization = factorization;
            this.diagnostic = diagnostic;
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
            details.put(factorization.equals("lu") ? "smallestEigenvalue" : "conditionEstimate", diagnostic);
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
        return "DirectSolver" + options;
    }
}
