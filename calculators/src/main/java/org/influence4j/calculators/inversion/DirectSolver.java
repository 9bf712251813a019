package org.influence4j.calculators.inversion;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.LUDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.inversion.Curvature;
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
 * {@code A = H + λI} ({@link HessianOperator#toMatrix}, one data pass), symmetrises it in double
 * precision and inverts it on the operator's backend in float64 ({@link Tensor#spdInverse()}, a
 * Cholesky-based inverse of a positive-definite matrix whose work is the backend's matrix products).
 *
 * <ul>
 *   <li>When A is positive definite (the normal case at a minimum of a convex loss), a <b>condition
 *       number estimate</b>: {@code κ₁ = ‖A‖₁·‖A⁻¹‖₁} with {@code ‖A⁻¹‖₁} estimated by Hager's method
 *       with Higham's refinement (LAPACK's {@code dpocon}) from a few products with the inverse, O(p²)
 *       next to the O(p³) inversion. κ₁ bounds the 2-norm condition number from above and is within a
 *       factor p of it; the estimate is a lower bound of κ₁, in practice within a factor 3.</li>
 *   <li>A is <b>numerically singular</b> when the estimate exceeds {@code 1/(100·ε)} of the dtype the
 *       Hessian was computed in (about 4.5e13 in float64, the spirit of EK-FAC's 1e13; 8.4e4 in
 *       float32, whose entries carry relative errors of about 6e-8): its smallest eigenvalues are
 *       within a factor 100 of the rounding noise, and so is every solution. It is refused with an
 *       {@link InversionException} of reason {@link Reason#SINGULAR} giving the estimate and the λ
 *       that brings the condition number down to 1e8 (float64) or below {@code 1/(ε·1e4)}.</li>
 *   <li>When A is not positive definite (a Cholesky pivot is not positive), the eigenvalues of A
 *       (values only, EJML on the host) tell an indefinite matrix from a
 *       singular one: a smallest eigenvalue θ below {@code −max|θ|/threshold} is <b>negative
 *       curvature</b> (θ is not at a minimum) and refused with {@link Reason#NEGATIVE_CURVATURE},
 *       giving θ and the λ that makes A positive definite, unless
 *       {@link DirectOptions#allowIndefinite()}: then LU with partial pivoting (EJML, on the host)
 *       solves it and every {@link SolverInfo} of this inverse carries a warning; anything else is
 *       {@link Reason#SINGULAR}.</li>
 * </ul>
 * Memory is {@code p²} doubles on the Java heap while preparing and {@code 2p²} doubles of backend
 * memory (A and A⁻¹) until the inverse is closed; time {@code O(p³)}: for small p only. {@code solve}
 * takes right-hand sides of the operator's backend and computes, on the backend in float64, the
 * solutions {@code X = B·A⁻¹} (one matrix product) and their relative residuals
 * {@code ‖b − A x‖ / ‖b‖}, so that a wrong solution cannot look right; it returns the solutions in the
 * dtype of the right-hand sides. The residuals are measured by default through a fixed Gaussian sketch
 * of {@value ResidualRows#COLUMNS} columns (two thin products; see {@link ResidualRows#sketched}: an
 * unbiased estimate, below half the residual with probability 1.3e-10 per row), and exactly with
 * {@link DirectOptions#exactResiduals()} or when {@code p ≤ }{@value ResidualRows#COLUMNS} (a second
 * {@code [k, p]·[p, p]} product, as costly as the solve). The solutions are the same either way.
 * Details hold {@code "factorization"}, {@code "dimension"}, {@code "residuals"} ({@code "sketched"}
 * or {@code "exact"}) and {@code "conditionEstimate"} (Cholesky) or {@code "smallestEigenvalue"}
 * (LU, whose residuals on the host are always exact). The solver is immutable and thread-safe; the
 * prepared inverse is not.
 *
 * <p><b>Fewer factor rows than parameters.</b> On the empirical Fisher, and on the Gauss-Newton
 * matrix of a model with {@link TwiceDifferentiable#gaussNewtonFactors}, A is
 * {@code (1/n) RᵀR + λI} with R the {@code r = n·c} square-root factor rows
 * ({@link FactoredGaussNewtonOperator#stackedFactors}; c = 1 for the empirical Fisher). When
 * {@code r < p}, λ &gt; 0, R fits in {@link FactoredGaussNewtonOperator#MAX_BYTES} and
 * {@code r ≤ }{@value #MAX_GRAM_ROWS}, it is inverted exactly through the {@code r × r} matrix
 * {@code C = RRᵀ + nλI} (Woodbury: {@code A⁻¹ = (1/λ)(I − Rᵀ C⁻¹ R)}, factorization
 * {@code "woodbury"}): one data pass, {@code O(r²p)} work and {@code r·p + 2r²} values of backend
 * memory instead of {@code O(p³)} and {@code 2p²}; no p × p matrix is formed. The products with R run
 * in the operator's dtype, C and its inverse in float64. A's eigenvalues are λ (p − r times) and
 * {@code (μ_i + nλ)/n} for the eigenvalues μ_i of RRᵀ, so its 2-norm condition number is
 * {@code μ_max(C)/(nλ)}, estimated from below by power iteration on C and refused above the same
 * threshold as the dense matrix's. The residuals are measured as the dense path's, sketched by default
 * ({@code A·S} from two products with R, once) or exactly ({@code b − A x} by two products with R).
 */
public final class DirectSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(DirectSolver.class);

    /** Relative pivot size (per unit of dimension) below which the LU factors count as singular. */
    private static final double SINGULAR_PIVOT = 1e-15;

    /** Dimension above which preparing is logged as expensive. */
    private static final int LARGE = 10_000;

    /** The condition number the suggested λ aims at in float64 (as EK-FAC's suggestion). */
    private static final double TARGET_CONDITION = 1e8;

    /** The most factor rows r inverted through their r x r matrix (two of them in float64: 1 GiB). */
    static final int MAX_GRAM_ROWS = 8192;

    /** Power iterations for the largest eigenvalue of C at most (each one r x r matrix-vector product). */
    private static final int POWER_ITERATIONS = 100;

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
     *     numerically singular ({@link Reason#SINGULAR}: also, before any data pass, the Gauss-Newton
     *     matrix or empirical Fisher with λ = 0 and fewer factor rows than parameters) or, unless allowed, indefinite
     *     ({@link Reason#NEGATIVE_CURVATURE})
     * @throws IllegalStateException before any data pass, if two dense p x p matrices of doubles (the
     *     least this method holds at once) exceed the JVM's maximum heap, naming the methods that need none
     */
    @Override
    public InverseHessian prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        int p = operator.dimension();
        if (operator instanceof DataHessianOperator data && data.curvature() != Curvature.HESSIAN
                && data.regularization() == 0 && FactoredGaussNewtonOperator.rows(data) < p) {
            // refused before any data pass: the rank of (1/n) RᵀR is at most the r rows of R
            throw new InversionException(Reason.SINGULAR, "the " + data.curvature().key() + " matrix of "
                    + data.data().size() + " training samples has rank at most " + FactoredGaussNewtonOperator.rows(data)
                    + " < p = " + p + ", so with λ = 0 it is singular; set the hessian regularization λ > 0"
                    + " (--lambda, e.g. 0.01)");
        }
        if (operator instanceof DataHessianOperator data && lowRank(data)) {
            long rows = FactoredGaussNewtonOperator.rows(data);
            return progress.task("Direct (p = " + p + ", " + rows + " factor rows)", 2, () -> prepareLowRank(data));
        }
        long heapBytes = 3L * p * p * Double.BYTES;
        long leastHeapBytes = 2L * p * p * Double.BYTES;
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (maxHeap != Long.MAX_VALUE && leastHeapBytes > maxHeap) {
            // refused before the data pass, not left to an OutOfMemoryError after it: the Hessian's values and
            // their symmetrised copy are two p x p arrays on the heap at once
            throw new IllegalStateException("method direct: p = " + p + " parameters need at least "
                    + (leastHeapBytes >> 20) + " MB of heap for the dense p x p matrix, more than this JVM's maximum"
                    + " heap (" + (maxHeap >> 20) + " MB)" + whyNotLowRank(operator) + "; use the cg, arnoldi or ekfac"
                    + " method, or a larger -Xmx (bin/influence4j reads it from INFLUENCE4J_JAVA_OPTS)");
        }
        if (p > LARGE) {
            LOG.warn("direct inversion of p = {} parameters needs {} MB of heap for the dense Hessian and O(p³)"
                    + " time; consider the cg method", p, heapBytes >> 20);
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
        DirectInverse inverse = factorise(operator.model().backend(), matrix, new Conditioning(
                operator.regularization(), operator.dtype(), NormOps_DDRM.inducedP1(matrix)));
        progress.step(1);
        return inverse;
    }

    /** @return whether A is inverted through its factor rows (see the class documentation) */
    private static boolean lowRank(DataHessianOperator operator) {
        return whyNotLowRank(operator) == null;
    }

    /**
     * @return null where A is inverted through its factor rows (see the class documentation); else, for
     *     the Gauss-Newton matrix or the empirical Fisher with λ &gt; 0, why not (a clause starting with
     *     "; "), and "" for any other operator
     */
    private static String whyNotLowRank(HessianOperator operator) {
        if (!(operator instanceof DataHessianOperator data) || data.curvature() == Curvature.HESSIAN
                || data.regularization() <= 0) {
            return "";
        }
        long rows = FactoredGaussNewtonOperator.rows(data);
        String what = "; the " + data.curvature().key() + " matrix's " + rows + " factor rows";
        if (rows >= data.dimension()) {
            return what + " are not fewer than p, so it is not inverted through them";
        }
        if (rows > MAX_GRAM_ROWS) {
            return what + " are more than the " + MAX_GRAM_ROWS + " it may be inverted through";
        }
        if (!FactoredGaussNewtonOperator.fits(data)) {
            return what + " take " + (FactoredGaussNewtonOperator.bytes(data) >> 20) + " MB, more than the "
                    + (FactoredGaussNewtonOperator.MAX_BYTES >> 20) + " MB allowed for inverting it through them";
        }
        if (data.curvature() != Curvature.EMPIRICAL_FISHER && !providesGaussNewtonFactors(data.model())) {
            return "; this model gives no Gauss-Newton factor rows to invert it through";
        }
        return null;
    }

    /** @return whether the model gives Gauss-Newton factors: a layer graph on a backend with Gauss-Newton products */
    private static boolean providesGaussNewtonFactors(TwiceDifferentiable model) {
        return model.spec().isGraph() && model.backend().capabilities().contains(BackendCapability.GAUSS_NEWTON);
    }

    /**
     * Inverts {@code A = (1/n) RᵀR + λI} through {@code C = RRᵀ + nλI} (the class documentation's
     * Woodbury path).
     */
    private WoodburyInverse prepareLowRank(DataHessianOperator operator) {
        double lambda = operator.regularization();
        double n = operator.data().size();
        TensorScope own = operator.model().backend().newScope();
        boolean kept = false;
        try {
            Tensor factors = FactoredGaussNewtonOperator.stackedFactors(operator, own);
            progress.step(1);
            int rows = (int) factors.shape()[0];
            Tensor inverse;
            double largest;
            try (TensorScope work = own.newChild(); Tensor transposed = factors.transpose();
                 Tensor gram = factors.matmul(transposed); Tensor gram64 = gram.toType(DType.FLOAT64);
                 Tensor eye = work.eye(DType.FLOAT64, rows); Tensor c = gram64.axpy(n * lambda, eye)) {
                double[] squares;
                try (Tensor dots = c.rowDots(c)) {
                    squares = dots.toDoubleArray();
                }
                for (int i = 0; i < rows; i++) {
                    if (!Double.isFinite(squares[i])) {
                        throw new InversionException(Reason.NON_FINITE, "the " + operator.curvature().key()
                                + " factors of the training data have a non-finite entry (factor row " + i
                                + "); check the model parameters and the training data");
                    }
                }
                largest = largestEigenvalue(c);
                Conditioning conditioning = new Conditioning(lambda, operator.dtype(), largest / n);
                double condition = largest / (n * lambda);
                if (!(condition <= conditioning.threshold())) {
                    throw conditioning.singular("condition number estimate " + format(condition) + " (2-norm,"
                            + " by power iteration on the " + rows + " x " + rows + " matrix of the factor rows)");
                }
                inverse = c.spdInverse().orElseThrow(() -> conditioning.singular("the " + rows + " x " + rows
                        + " matrix of the factor rows is not numerically positive definite"));
                progress.step(1);
                kept = true;
                return new WoodburyInverse(own, factors, inverse, lambda, n, condition, options.exactResiduals());
            }
        } finally {
            if (!kept) {
                own.close();
            }
        }
    }

    /**
     * @return the largest eigenvalue of the symmetric positive-definite {@code c} by power iteration
     *     (a lower bound, converged to a relative change of 1e-9 or after {@value #POWER_ITERATIONS} steps)
     */
    private static double largestEigenvalue(Tensor c) {
        int rows = (int) c.shape()[0];
        double[] start = new double[rows];
        for (int i = 0; i < rows; i++) {
            start[i] = 1 + 0.5 * Math.sin(i + 1.0); // deterministic, with a part along every eigenvector in practice
        }
        TensorScope scope = c.scope();
        Tensor v = scope.fromArray(start, DType.FLOAT64, rows);
        double estimate = 0;
        try {
            Tensor unit = v.scale(1 / v.norm());
            v.close();
            v = unit;
            for (int step = 0; step < POWER_ITERATIONS; step++) {
                try (Tensor w = c.matmul(v)) {
                    double next = v.dot(w); // Rayleigh quotient of the unit vector v
                    double norm = w.norm();
                    Tensor nextV = w.scale(1 / norm);
                    v.close();
                    v = nextV;
                    boolean converged = Math.abs(next - estimate) <= 1e-9 * next;
                    estimate = Math.max(estimate, next);
                    if (converged) {
                        break;
                    }
                }
            }
            return estimate;
        } finally {
            v.close();
        }
    }

    private DirectInverse factorise(Backend backend, DMatrixRMaj matrix, Conditioning c) {
        int p = matrix.numRows;
        DirectInverse cholesky = invertOnBackend(backend, matrix, c, options.exactResiduals());
        if (cholesky != null) {
            return cholesky;
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
        return new HostLuInverse(matrix, lu, smallest, List.of(warning));
    }

    /**
     * Inverts the positive-definite A on the backend in float64 and checks its condition number.
     *
     * @return the inverse, or null if A is not positive definite
     * @throws InversionException of reason {@link Reason#SINGULAR} if it is numerically singular
     */
    private static DirectInverse invertOnBackend(Backend backend, DMatrixRMaj matrix, Conditioning c,
                                                 boolean exactResiduals) {
        int p = matrix.numRows;
        TensorScope own = backend.newScope();
        boolean kept = false;
        try {
            Tensor a = own.fromArray(matrix.getData(), DType.FLOAT64, p, p);
            Optional<Tensor> found = a.spdInverse();
            if (found.isEmpty()) {
                return null;
            }
            Tensor inverse = found.get();
            double condition = c.norm() * inverseNormEstimate(x -> {
                try (Tensor v = own.fromArray(x, DType.FLOAT64, p); Tensor y = inverse.matmul(v)) {
                    return y.toDoubleArray();
                }
            }, p);
            if (!(condition <= c.threshold())) {
                throw c.singular("condition number estimate " + format(condition) + " (1-norm, from the Cholesky"
                        + " inverse)");
            }
            ResidualRows residuals = exactResiduals || p <= ResidualRows.COLUMNS ? ResidualRows.exact(a)
                    : ResidualRows.sketched(a);
            kept = true;
            return new BackendInverse(own, a, inverse, condition, residuals);
        } finally {
            if (!kept) {
                own.close();
            }
        }
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
     * A lower bound of {@code ‖A⁻¹‖₁} for the symmetric A, given {@code solve(x) = A⁻¹x}: Hager's
     * method (at most 5 steps, each two solves) and Higham's alternative vector, as LAPACK's
     * {@code dlacon}.
     */
    private static double inverseNormEstimate(UnaryOperator<double[]> solve, int p) {
        double[] x = new double[p];
        Arrays.fill(x, 1.0 / p);
        double estimate = 0;
        int last = -1;
        for (int step = 0; step < 5; step++) {
            double[] y = solve.apply(x);
            double norm = sumAbs(y);
            if (step > 0 && norm <= estimate) {
                break;
            }
            estimate = norm;
            double[] sign = new double[p];
            for (int i = 0; i < p; i++) {
                sign[i] = y[i] >= 0 ? 1 : -1;
            }
            double[] z = solve.apply(sign);
            int j = 0;
            double zx = 0;
            for (int i = 0; i < p; i++) {
                if (Math.abs(z[i]) > Math.abs(z[j])) {
                    j = i;
                }
                zx += z[i] * x[i];
            }
            if (j == last || Math.abs(z[j]) <= zx) {
                break;
            }
            last = j;
            x = new double[p];
            x[j] = 1;
        }
        double[] alternative = new double[p];
        for (int i = 0; i < p; i++) {
            alternative[i] = (i % 2 == 0 ? 1 : -1) * (1 + (p > 1 ? (double) i / (p - 1) : 0));
        }
        return Math.max(estimate, 2 * sumAbs(solve.apply(alternative)) / (3.0 * p));
    }

    private static double sumAbs(double[] v) {
        double s = 0;
        for (double e : v) {
            s += Math.abs(e);
        }
        return s;
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** @return {@code v > 0} rounded up to three significant digits, so that a suggested λ is never too small */
    private static String formatUp(double v) {
        double unit = Math.pow(10, Math.floor(Math.log10(v)) - 2);
        return format(Math.ceil(v / unit * (1 - 1e-12)) * unit);
    }

    /** A prepared inverse: the right-hand sides' checks and the diagnostics common to both kinds. */
    private abstract static class DirectInverse implements InverseHessian {
        final int p;
        private final String factorization;
        private final String residualMeasure;
        private final double diagnostic;
        private final List<String> warnings;
        private boolean closed;

        /**
         * @param factorization   {@code "cholesky"} or {@code "lu"}
         * @param residualMeasure {@code "sketched"} or {@code "exact"}: how the residuals are measured
         * @param diagnostic      the condition number estimate (Cholesky) or the smallest eigenvalue (LU)
         */
        DirectInverse(int p, String factorization, String residualMeasure, double diagnostic,
                      List<String> warnings) {
            this.p = p;
            this.factorization = factorization;
            this.residualMeasure = residualMeasure;
            this.diagnostic = diagnostic;
            this.warnings = List.copyOf(warnings);
        }

        @Override
        public final InverseHvpResult solve(Tensor rhs, TensorScope scope) {
            InverseChecks.requireOpen(closed, "direct");
            long[] shape = rhs.shape();
            boolean vector = shape.length == 1;
            if (!(vector && shape[0] == p) && !(shape.length == 2 && shape[1] == p)) {
                throw new IllegalArgumentException("rhs: shape " + Arrays.toString(shape) + " is not [" + p
                        + "] or [k, " + p + "]");
            }
            int k = vector ? 1 : (int) shape[0];
            double[] residuals = new double[k];
            Tensor x = k == 0 ? scope.zeros(rhs.dtype(), shape) : solve(rhs, k, residuals, scope);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("factorization", factorization);
            details.put("dimension", p);
            details.put("residuals", residualMeasure);
            details.put(factorization.equals("lu") ? "smallestEigenvalue" : "conditionEstimate", diagnostic);
            SolverInfo info = new SolverInfo(InversionMethod.DIRECT, 0, residuals, true, warnings, details);
            return new InverseHvpResult(x, info);
        }

        /**
         * @param rhs       {@code [p]} or {@code [k, p]}, {@code k ≥ 1}
         * @param residuals receives the relative residual of each row
         * @return the solutions in the shape and dtype of {@code rhs}, owned by {@code scope}
         */
        abstract Tensor solve(Tensor rhs, int k, double[] residuals, TensorScope scope);

        /**
         * @param x         the solutions {@code [k, p]} in float64
         * @param d         their residual rows (or a sketch of them), float64
         * @param norms     the squared norms of the right-hand sides
         * @param residuals receives {@code ‖d_r‖ / ‖b_r‖} (‖d_r‖ where b_r = 0)
         * @return the solutions in the shape and dtype of {@code rhs}, owned by {@code target}
         */
        static Tensor solutions(Tensor x, Tensor d, double[] norms, double[] residuals, Tensor rhs,
                                TensorScope target) {
            try (Tensor dd = d.rowDots(d)) {
                double[] squares = dd.toDoubleArray();
                for (int r = 0; r < squares.length; r++) {
                    residuals[r] = norms[r] > 0 ? Math.sqrt(squares[r] / norms[r]) : Math.sqrt(squares[r]);
                }
            }
            try (Tensor typed = x.toType(rhs.dtype())) {
                return typed.reshape(rhs.shape()).moveTo(target);
            }
        }

        /** Frees the factors. */
        abstract void release();

        @Override
        public final void close() {
            if (!closed) {
                closed = true;
                release();
            }
        }

    }

    /** A and A⁻¹ in float64 on the backend; each solve is one matrix product, its residuals {@link ResidualRows}. */
    private static final class BackendInverse extends DirectInverse {
        private final TensorScope scope;
        private final Tensor inverse;
        private final ResidualRows residualRows;

        /** @param scope owns A, {@code inverse} and the residuals' sketch; closed by {@link #close()} */
        BackendInverse(TensorScope scope, Tensor matrix, Tensor inverse, double condition,
                       ResidualRows residualRows) {
            super((int) matrix.shape()[0], "cholesky", residualRows.kind(), condition, List.of());
            this.scope = scope;
            this.inverse = inverse;
            this.residualRows = residualRows;
        }

        @Override
        Tensor solve(Tensor rhs, int k, double[] residuals, TensorScope target) {
            try (Tensor rows = rhs.reshape(k, p);
                 Tensor b = rows.toType(DType.FLOAT64)) {
                double[] norms = InverseChecks.requireFiniteRows(b);
                // A is symmetric: the rows of B·A⁻¹ are the solutions
                try (Tensor x = b.matmul(inverse);
                     Tensor d = residualRows.of(b, x)) {
                    return solutions(x, d, norms, residuals, rhs, target);
                }
            }
        }

        @Override
        void release() {
            scope.close();
        }
    }

    /**
     * {@code A = (1/n) RᵀR + λI} as its factor rows R {@code [r, p]} (the operator's dtype) and
     * {@code C⁻¹ = (RRᵀ + nλI)⁻¹} (float64): {@code X = (B − (B Rᵀ) C⁻¹ R)/λ}; the residuals
     * {@code B − ((X Rᵀ) R/n + λX)} as {@link ResidualRows} of these products, sketched or exact as the
     * dense path's.
     */
    private static final class WoodburyInverse extends DirectInverse {
        private final TensorScope scope;
        private final Tensor factors;
        private final Tensor transposed;
        private final Tensor gramInverse;
        private final double lambda;
        private final double n;
        private final ResidualRows residualRows;

        /**
         * @param scope          owns the factors, {@code gramInverse} and the residuals' sketch; closed by
         *                       {@link #close()}
         * @param exactResiduals exact residuals (else sketched where p exceeds the sketch's columns)
         */
        WoodburyInverse(TensorScope scope, Tensor factors, Tensor gramInverse, double lambda, double n,
                       double condition, boolean exactResiduals) {
            super((int) factors.shape()[1], "woodbury", exact(exactResiduals, factors) ? "exact" : "sketched",
                    condition, List.of());
            this.scope = scope;
            this.factors = factors;
            this.transposed = factors.transpose();
            this.gramInverse = gramInverse;
            this.lambda = lambda;
            this.n = n;
            this.residualRows = exact(exactResiduals, factors) ? ResidualRows.exact(this::times)
                    : ResidualRows.sketched(this::times, scope, p);
        }

        /** @return whether the residuals are measured exactly: on request, or where p ≤ the sketch's columns */
        private static boolean exact(boolean requested, Tensor factors) {
            return requested || factors.shape()[1] <= ResidualRows.COLUMNS;
        }

        @Override
        Tensor solve(Tensor rhs, int k, double[] residuals, TensorScope target) {
            try (Tensor rows = rhs.reshape(k, p); Tensor b = rows.toType(DType.FLOAT64)) {
                double[] norms = InverseChecks.requireFiniteRows(b);
                try (Tensor x = lowRankSolve(rows, b, factors.dtype()); Tensor d = residualRows.of(b, x)) {
                    return solutions(x, d, norms, residuals, rhs, target);
                }
            }
        }

        /** @return {@code (B − (B Rᵀ) C⁻¹ R)/λ} in float64 */
        private Tensor lowRankSolve(Tensor rows, Tensor b, DType dtype) {
            try (Tensor typed = rows.toType(dtype); Tensor projected = typed.matmul(transposed);
                 Tensor projected64 = projected.toType(DType.FLOAT64); Tensor weights = projected64.matmul(gramInverse);
                 Tensor weightsTyped = weights.toType(dtype); Tensor back = weightsTyped.matmul(factors);
                 Tensor back64 = back.toType(DType.FLOAT64); Tensor difference = b.sub(back64)) {
                return difference.scale(1 / lambda);
            }
        }

        /** @return {@code x A = (x Rᵀ) R/n + λx} for float64 rows x, in float64 */
        private Tensor times(Tensor x) {
            try (Tensor typed = x.toType(factors.dtype()); Tensor projected = typed.matmul(transposed);
                 Tensor back = projected.matmul(factors); Tensor back64 = back.toType(DType.FLOAT64);
                 Tensor mean = back64.scale(1 / n)) {
                return mean.axpy(lambda, x);
            }
        }

        @Override
        void release() {
            scope.close();
        }
    }

    /** The LU factors of an indefinite A on the host (EJML keeps work arrays: not thread-safe). */
    private static final class HostLuInverse extends DirectInverse {
        private final DMatrixRMaj matrix;
        private final LinearSolverDense<DMatrixRMaj> solver;

        HostLuInverse(DMatrixRMaj matrix, LinearSolverDense<DMatrixRMaj> solver, double smallest,
                      List<String> warnings) {
            super(matrix.numRows, "lu", "exact", smallest, warnings);
            this.matrix = matrix;
            this.solver = solver;
        }

        @Override
        Tensor solve(Tensor rhs, int k, double[] residuals, TensorScope scope) {
            double[] b = rhs.toDoubleArray();
            InverseChecks.requireFinite(b, p, 0);
            DMatrixRMaj bt = new DMatrixRMaj(p, k);
            for (int r = 0; r < k; r++) {
                for (int i = 0; i < p; i++) {
                    bt.set(i, r, b[r * p + i]);
                }
            }
            DMatrixRMaj xt = new DMatrixRMaj(p, k);
            solver.solve(bt.copy(), xt);
            DMatrixRMaj ax = new DMatrixRMaj(p, k);
            CommonOps_DDRM.mult(matrix, xt, ax);
            double[] x = new double[k * p];
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
            return scope.fromArray(x, rhs.dtype(), rhs.shape());
        }

        @Override
        void release() {
        }
    }

    @Override
    public String toString() {
        return "DirectSolver" + options;
    }
}
