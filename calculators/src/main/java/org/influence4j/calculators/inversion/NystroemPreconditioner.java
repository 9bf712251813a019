package org.influence4j.calculators.inversion;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * Randomized Nyström preconditioner (Frangella, Tropp &amp; Udell 2023; pyDVL's
 * {@code NystroemPreconditioner}). From a rank-r sketch {@code H ≈ Uᵀ diag(e) U}
 * ({@link NystroemSketch}) it applies
 * <pre>  M⁻¹ r = (e_r + λ) · Uᵀ diag(1/(e + λ)) U r + (I − UᵀU) r</pre>
 * where e_r is the smallest kept eigenvalue and λ the operator's regularization. It flattens the
 * r largest eigenvalues of A = H + λI to about e_r + λ, so CG then sees a condition number of
 * about {@code (e_r + λ)/λ_min(A)} instead of {@code λ_max(A)/λ_min(A)}. Fitting costs one block
 * data pass of r vectors.
 */
public final class NystroemPreconditioner extends FittedPreconditioner {

    private final Tensor basis;
    private final Tensor basisT;
    private final double[] coefficients;

    private NystroemPreconditioner(TensorScope scope, Tensor basis, double[] coefficients,
                                   Map<String, Object> details) {
        super(scope, details);
        this.basis = basis;
        this.basisT = basis.transpose();
        this.coefficients = coefficients;
    }

    /**
     * @param operator A = H + λI
     * @param rank     sketch rank r, 1 ≤ r ≤ p
     * @param seed     seed of the sketch
     * @throws IllegalArgumentException naming a bad argument
     * @throws org.influence4j.api.inversion.InversionException if the sketch fails (indefinite Hessian)
     */
    public static NystroemPreconditioner fit(HessianOperator operator, int rank, long seed) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        TensorScope own = operator.model().backend().newScope();
        try {
            NystroemSketch sketch = NystroemSketch.of(operator, rank, seed, own);
            double lambda = operator.regularization();
            double[] e = sketch.eigenvalues();
            double last = e[e.length - 1] + lambda;
            double[] c = new double[e.length];
            for (int i = 0; i < e.length; i++) {
                double reg = e[i] + lambda;
                c[i] = reg > 0 && last > 0 ? last / reg - 1 : 0;
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("preconditioner", "nystroem");
            details.put("preconditionerRank", e.length);
            details.put("preconditionerEigenvalues", Arrays.stream(e).boxed().toList());
            List<String> w = sketch.warnings();
            if (!w.isEmpty()) {
                details.put("preconditionerWarnings", w);
            }
            return new NystroemPreconditioner(own, sketch.basis(), c, Map.copyOf(details));
        } catch (RuntimeException ex) {
            own.close();
            throw ex;
        }
    }

    @Override
    public Tensor apply(Tensor residuals, TensorScope target) {
        boolean vector = residuals.rank() == 1;
        int p = (int) basis.shape()[1];
        try (TensorScope work = target.newChild()) {
            Tensor r = vector ? residuals.reshape(1, p) : residuals;
            Tensor proj = r.matmul(basisT);
            double[][] pr = DenseLinalg.unflatten(proj.toDoubleArray(), (int) proj.shape()[0], coefficients.length);
            for (double[] row : pr) {
                for (int i = 0; i < row.length; i++) {
                    row[i] *= coefficients[i];
                }
            }
            Tensor corr = DenseLinalg.combine(pr, basis, work);
            Tensor out = r.add(corr);
            proj.close();
            corr.close();
            if (vector) {
                Tensor flat = out.reshape(p);
                out.close();
                r.close();
                out = flat;
            }
            return out.moveTo(target);
        }
    }
}
