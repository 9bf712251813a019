package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.calculators.internal.DenseLinalg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A randomized Nyström approximation {@code H ≈ Uᵀ diag(e) U} of the <em>unregularized</em>
 * Hessian {@code H = A − λI} of a {@link HessianOperator} (pyDVL's
 * {@code randomized_nystroem_approximation}), from one block data pass:
 * <ol>
 *   <li>Ω: r orthonormal Gaussian rows {@code [r, p]};</li>
 *   <li>Y = HΩ (one block Hessian-vector product), shifted by ν = √p·ε·‖Y‖ for stability;</li>
 *   <li>C = Ω(Y + νΩ)ᵀ = LLᵀ (Cholesky), B = L⁻¹(Y + νΩ);</li>
 *   <li>the SVD of B gives U (rows) and σ; e = σ² − ν.</li>
 * </ol>
 * The Nyström approximation needs a positive semi-definite matrix. When H is indefinite on the
 * sketch (C is not positive definite; pyDVL fails there), the sketch is retried on
 * {@code H + λI} (shift ν + λ), which is positive definite whenever the user's λ is large enough;
 * e is still reported for H (σ² − ν − λ) and a warning records the retry.
 *
 * <p>Directions with σ² ≤ 1e-12·σ²max carry no information and are dropped, so {@link #rank()}
 * may be below the requested rank. {@link #basis()} is owned by the scope given to {@link #of}.
 */
final class NystroemSketch {

    private static final Logger LOG = LoggerFactory.getLogger(NystroemSketch.class);
    private static final double DROP = 1e-12;

    private final Tensor basis;
    private final double[] eigenvalues;
    private final List<String> warnings;

    private NystroemSketch(Tensor basis, double[] eigenvalues, List<String> warnings) {
        this.basis = basis;
        this.eigenvalues = eigenvalues;
        this.warnings = List.copyOf(warnings);
    }

    /** @return orthonormal rows U {@code [rank, p]} (approximate eigenvectors of H) */
    Tensor basis() {
        return basis;
    }

    /** @return the approximate eigenvalues e of H, descending */
    double[] eigenvalues() {
        return eigenvalues.clone();
    }

    /** @return the kept rank */
    int rank() {
        return eigenvalues.length;
    }

    /** @return warnings of the construction (e.g. the retry on H + λI) */
    List<String> warnings() {
        return warnings;
    }

    /**
     * @param operator A = H + λI
     * @param rank     sketch size r, 1 ≤ r ≤ p
     * @param seed     seed of the Gaussian test matrix
     * @param scope    owner of {@link #basis()}
     * @throws InversionException if neither H nor H + λI is positive definite on the sketch
     */
    static NystroemSketch of(HessianOperator operator, int rank, long seed, TensorScope scope) {
        int p = operator.dimension();
        if (rank < 1 || rank > p) {
            throw new IllegalArgumentException("rank: must be between 1 and the number of parameters " + p
                    + ", got " + rank);
        }
        double lambda = operator.regularization();
        DType dtype = operator.dtype();
        List<String> warnings = new ArrayList<>();
        try (TensorScope work = scope.newChild()) {
            Tensor omega;
            try (Tensor g = DenseLinalg.gaussian(new Random(seed), rank, p, dtype, work)) {
                omega = DenseLinalg.orthonormalRows(g, 0, work);
            }
            if (omega == null || omega.shape()[0] != rank) {
                throw new IllegalStateException("the Gaussian test matrix of rank " + rank + " is rank deficient");
            }
            Tensor y;
            try (Tensor ay = operator.apply(omega, work)) {
                y = lambda == 0 ? ay.scale(1.0) : ay.axpy(-lambda, omega);
            }
            double nu = Math.sqrt(p) * epsilon(dtype) * y.norm();
            double[][] base = DenseLinalg.gram(omega, y);
            double shift = nu;
            double[][] l = DenseLinalg.cholesky(shifted(base, shift));
            if (l == null && lambda > 0) {
                shift = nu + lambda;
                l = DenseLinalg.cholesky(shifted(base, shift));
                if (l != null) {
                    String w = "the Hessian H is indefinite on the Nyström sketch (the parameters are not at a"
                            + " minimum), so H + λI (λ = " + lambda + ") was sketched instead of H";
                    LOG.warn(w);
                    warnings.add(w);
                }
            }
            if (l == null) {
                throw new InversionException(Reason.NEGATIVE_CURVATURE,
                        "the Nyström sketch needs a positive semi-definite Hessian, but"
                        + (lambda > 0 ? " H + λI (λ = " + lambda + ") is" : " H is") + " not positive definite on the"
                        + " sketch (the parameters are not at a minimum of the training loss); increase the hessian"
                        + " regularization λ until H + λI is positive definite");
            }
            Tensor b;
            try (Tensor ys = y.axpy(shift, omega)) {
                b = DenseLinalg.combine(DenseLinalg.inverse(l), ys, work);
            }
            DenseLinalg.Eigen e = DenseLinalg.symmetricEigen(DenseLinalg.gram(b, b), DenseLinalg.DESCENDING);
            double max = e.values()[0];
            int keep = 0;
            while (keep < rank && e.values()[keep] > DROP * max) {
                keep++;
            }
            if (keep == 0) {
                throw new InversionException(Reason.SINGULAR,
                        "the Nyström sketch of the Hessian is zero; check the model and data");
            }
            double[][] t = new double[keep][rank];
            double[] eig = new double[keep];
            for (int q = 0; q < keep; q++) {
                double sigma2 = e.values()[q];
                double s = 1 / Math.sqrt(sigma2);
                for (int i = 0; i < rank; i++) {
                    t[q][i] = e.vectors()[q][i] * s;
                }
                eig[q] = sigma2 - shift;
            }
            Tensor u = DenseLinalg.combine(t, b, work);
            return new NystroemSketch(u.moveTo(scope), eig, warnings);
        }
    }

    private static double[][] shifted(double[][] a, double shift) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
            out[i][i] += shift;
        }
        return out;
    }

    static double epsilon(DType dtype) {
        return dtype == DType.FLOAT64 ? Math.ulp(1.0) : Math.ulp(1.0f);
    }
}
