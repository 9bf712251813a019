package org.influence4j.calculators.inversion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.TensorScope;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import org.influence4j.api.inversion.InversionMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Randomized Nyström sketch with the Woodbury formula (pyDVL's {@code NystroemSketchInfluence}).
 * {@link #prepare} computes a rank-r Nyström approximation {@code H ≈ Uᵀ diag(e) U} of the
 * <em>unregularized</em> Hessian from one block data pass ({@link NystroemSketch}); {@code solve}
 * applies the exact inverse of {@code Uᵀ diag(e) U + λI} (Woodbury):
 * <pre>  x = Uᵀ diag(1/(e + λ)) U b + (1/λ)(b − UᵀU b)</pre>
 * as pyDVL does; with λ = 0 the second term is dropped. With r = p the sketch is exact and so is
 * the inverse.
 *
 * <p>Differences from pyDVL, documented: when H is indefinite on the sketch (pyDVL's Cholesky
 * fails) the sketch is taken of H + λI instead, with a warning; an approximate eigenvalue with
 * {@code e + λ ≤ 0} is refused with an {@link InversionException} advising a larger λ.
 * Details: {@code "eigenvalues"}, {@code "rank"}, {@code "preparePasses"}.
 */
public final class NystroemSolver implements InverseHvpSolver {

    private static final Logger LOG = LoggerFactory.getLogger(NystroemSolver.class);

    private final NystroemOptions options;

    /** A solver with {@link NystroemOptions#defaults()}. */
    public NystroemSolver() {
        this(NystroemOptions.defaults());
    }

    /** @param options rank and seed */
    public NystroemSolver(NystroemOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use NystroemOptions.defaults()");
        }
        this.options = options;
    }

    /** @return the options */
    public NystroemOptions options() {
        return options;
    }

    @Override
    public InversionMethod method() {
        return InversionMethod.NYSTROEM;
    }

    /** @throws InversionException if the Hessian (plus λ) is not positive definite on the sketch */
    @Override
    public LowRankInverse prepare(HessianOperator operator) {
        if (operator == null) {
            throw new IllegalArgumentException("operator: must not be null");
        }
        int p = operator.dimension();
        int rank = Math.min(options.rank(), p);
        double lambda = operator.regularization();
        long passesBefore = operator.passes();
        TensorScope own = operator.model().backend().newScope();
        try {
            NystroemSketch sketch = NystroemSketch.of(operator, rank, options.seed(), own);
            double[] e = sketch.eigenvalues();
            for (double v : e) {
                if (!(v + lambda > 0)) {
                    throw new InversionException(Reason.NEGATIVE_CURVATURE,
                            "Nyström eigenvalue " + v + " of the Hessian gives e + λ = "
                            + (v + lambda) + " <= 0 (λ = " + lambda + "); increase the hessian regularization λ");
                }
            }
            List<String> warnings = new ArrayList<>(sketch.warnings());
            if (lambda == 0 && rank < p) {
                String w = "λ = 0: the Nyström inverse drops every direction outside the rank-" + rank + " sketch;"
                        + " use a hessian regularization λ > 0 for the Woodbury complement term";
                LOG.warn(w);
                warnings.add(w);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("eigenvalues", Arrays.stream(e).boxed().toList());
            details.put("rank", e.length);
            details.put("requestedRank", rank);
            details.put("preparePasses", operator.passes() - passesBefore);
            return new LowRankInverse(InversionMethod.NYSTROEM, own, sketch.basis(), e, lambda, true, true, warnings,
                    details);
        } catch (RuntimeException ex) {
            own.close();
            throw ex;
        }
    }

    @Override
    public String toString() {
        return "NystroemSolver" + options;
    }
}
