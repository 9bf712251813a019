package org.influence4j.calculators.inversion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverInfo;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * The inverse of a regularized low-rank Hessian {@code H ≈ Vᵀ diag(θ) V} (V: r orthonormal rows):
 * <pre>  x = Vᵀ diag(1/(θ + λ)) V b  [ + (1/λ)(b − VᵀV b)  with the complement ]</pre>
 * Without the complement term (Arnoldi, as pyDVL) directions outside the kept space are dropped;
 * with it (Nyström, pyDVL's Woodbury form, only when λ &gt; 0) they are scaled by 1/λ, which is
 * the exact inverse of {@code Vᵀ diag(θ) V + λI}. Costs two {@code [k,p] x [p,r]} products per
 * solve, no data pass. Holds the basis in backend memory: close it. Not thread-safe.
 */
public final class LowRankInverse implements InverseHessian {

    private final InversionMethod method;
    private final TensorScope scope;
    private final Tensor basis;
    private final Tensor basisT;
    private final double[] eigenvalues;
    private final double lambda;
    private final boolean complement;
    private final boolean converged;
    private final List<String> warnings;
    private final Map<String, Object> details;
    private boolean closed;

    LowRankInverse(InversionMethod method, TensorScope scope, Tensor basis, double[] eigenvalues, double lambda,
                   boolean complement, boolean converged, List<String> warnings, Map<String, Object> details) {
        this.method = method;
        this.scope = scope;
        this.basis = basis;
        this.basisT = basis.transpose();
        this.eigenvalues = eigenvalues.clone();
        this.lambda = lambda;
        this.complement = complement && lambda > 0;
        this.converged = converged;
        this.warnings = List.copyOf(warnings);
        this.details = new LinkedHashMap<>(details);
    }

    /** @return the kept eigenvalues θ of the unregularized Hessian */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    /** @return a copy of the basis V {@code [r, p]} (orthonormal rows), owned by {@code target} */
    public Tensor basis(TensorScope target) {
        try (Tensor zeros = target.zeros(basis.dtype(), basis.shape())) {
            return zeros.add(basis);
        }
    }

    @Override
    public InverseHvpResult solve(Tensor rhs, TensorScope target) {
        InverseChecks.requireOpen(closed, method.configName());
        int p = (int) basis.shape()[1];
        int k = InverseChecks.requireRhsShape(rhs, p);
        int r = eigenvalues.length;
        try (TensorScope work = target.newChild()) {
            Tensor b;
            try (Tensor zeros = work.zeros(basis.dtype(), k, p); Tensor rows = rhs.reshape(k, p)) {
                b = zeros.add(rows);
            }
            InverseChecks.requireFiniteRows(b);
            double[][] proj;
            try (Tensor pr = b.matmul(basisT)) {
                proj = DenseLinalg.unflatten(pr.toDoubleArray(), k, r);
            }
            for (double[] row : proj) {
                for (int i = 0; i < r; i++) {
                    double w = 1 / (eigenvalues[i] + lambda);
                    row[i] *= complement ? w - 1 / lambda : w;
                }
            }
            Tensor x = DenseLinalg.combine(proj, basis, work);
            if (complement) {
                Tensor full = x.axpy(1 / lambda, b);
                x.close();
                x = full;
            }
            Tensor out = InverseChecks.toCallerLayout(x, rhs);
            return new InverseHvpResult(out.moveTo(target), info());
        }
    }

    /**
     * The bilinear form {@code L A⁻¹ Rᵀ} through the low-rank factors, without forming {@code A⁻¹ Lᵀ}:
     * {@code (L Vᵀ) diag(w) (R Vᵀ)ᵀ} with {@code w = 1/(θ + λ)} (with the complement,
     * {@code w − 1/λ} and {@code + (1/λ) L Rᵀ}). For influences {@code L} are test gradients and
     * {@code R} training gradients: {@code 2(m + n)pr + 2mnr} flops instead of {@code 4mpr + 2mnp}.
     * Equals {@code solve(L) · Rᵀ} up to float rounding. The same as {@link #scores} of
     * {@link #leftFactors}, which lets a caller take {@code R} in chunks.
     *
     * @param left  {@code [m, p]}, checked to be finite like {@link #solve}'s right-hand sides
     * @param right {@code [n, p]}
     * @return {@code [m, n]} owned by {@code target}, with this inverse's diagnostics
     */
    public InverseHvpResult bilinear(Tensor left, Tensor right, TensorScope target) {
        try (TensorScope work = target.newChild()) {
            Tensor scores = scores(leftFactors(left, work), left, right, work);
            return new InverseHvpResult(scores.moveTo(target), info());
        }
    }

    /**
     * The left half of {@link #bilinear}: {@code (L Vᵀ) diag(w)} ({@code w − 1/λ} with the complement).
     *
     * @param left {@code [m, p]}, checked to be finite like {@link #solve}'s right-hand sides
     * @return {@code [m, r]} owned by {@code target}
     * @throws IllegalArgumentException naming the row, index and value of a NaN or infinity in {@code left}
     */
    public Tensor leftFactors(Tensor left, TensorScope target) {
        InverseChecks.requireOpen(closed, method.configName());
        int m = InverseChecks.requireRhsShape(left, (int) basis.shape()[1]);
        InverseChecks.requireFiniteRows(left);
        int r = eigenvalues.length;
        double[] projected;
        try (Tensor pl = left.matmul(basisT)) {
            projected = pl.toDoubleArray();
        }
        for (int i = 0; i < projected.length; i++) {
            double w = 1 / (eigenvalues[i % r] + lambda);
            projected[i] *= complement ? w - 1 / lambda : w;
        }
        return target.fromArray(projected, basis.dtype(), m, r);
    }

    /**
     * The right half of {@link #bilinear}: {@code leftFactors (R Vᵀ)ᵀ}, plus {@code (1/λ) L Rᵀ} with the
     * complement.
     *
     * @param leftFactors {@link #leftFactors} of {@code left}
     * @param left        {@code [m, p]}; read only with the complement
     * @param right       {@code [n, p]}
     * @return {@code [m, n]} owned by {@code target}
     */
    public Tensor scores(Tensor leftFactors, Tensor left, Tensor right, TensorScope target) {
        try (TensorScope work = target.newChild()) {
            Tensor scores;
            try (Tensor projected = rightFactors(right)) {
                scores = leftFactors.matmul(projected);
            }
            if (complement) {
                try (Tensor full = DenseLinalg.timesTransposed(left, right)) {
                    Tensor sum = scores.axpy(1 / lambda, full);
                    scores.close();
                    scores = sum;
                }
            }
            return scores.moveTo(target);
        }
    }

    /**
     * The right factors of {@link #scores}: {@code V Rᵀ}, so that {@code scores = leftFactors · V Rᵀ}
     * when there is no {@link #hasComplement complement}; a caller may join them over chunks of R
     * first and multiply once.
     *
     * @param right {@code [n, p]}
     * @return {@code [r, n]}, owned by the operands' scope
     */
    public Tensor rightFactors(Tensor right) {
        InverseChecks.requireOpen(closed, method.configName());
        InverseChecks.requireRhsShape(right, (int) basis.shape()[1]);
        return DenseLinalg.timesTransposed(basis, right);
    }

    /** @return whether {@link #scores} adds the complement term {@code (1/λ) L Rᵀ} to the factors' product */
    public boolean hasComplement() {
        return complement;
    }

    /** @return the diagnostics every product of this inverse reports: no iterations, the fit's warnings */
    public SolverInfo info() {
        return new SolverInfo(method, 0, null, converged, warnings, details);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            scope.close();
        }
    }
}
