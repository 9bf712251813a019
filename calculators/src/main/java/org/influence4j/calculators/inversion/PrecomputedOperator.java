package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.inversion.HessianOperator;
import org.slf4j.Logger;

/**
 * An operator that a solver's precompute option keeps in memory so that every product after the
 * first data pass is a matrix product: the dense matrix ({@link PrecomputedHessianOperator}) or the
 * square-root factors of the Gauss-Newton matrix or the empirical Fisher ({@link FactoredGaussNewtonOperator}). Close it to
 * free that memory.
 */
interface PrecomputedOperator extends HessianOperator, AutoCloseable {

    /** @return the operator this one keeps in memory, which answers everything but the products */
    HessianOperator delegate();

    @Override
    default int dimension() {
        return delegate().dimension();
    }

    @Override
    default DType dtype() {
        return delegate().dtype();
    }

    @Override
    default double regularization() {
        return delegate().regularization();
    }

    @Override
    default TwiceDifferentiable model() {
        return delegate().model();
    }

    @Override
    default DataSource data() {
        return delegate().data();
    }

    /**
     * @return what is kept, for diagnostics: {@code "dense"}, {@code "gauss-newton-factors"} or
     *     {@code "empirical-fisher-factors"}
     */
    String form();

    /** Frees the kept memory. Idempotent. */
    @Override
    void close();

    /**
     * What a solver with a precompute option does on request: the square-root factors when the
     * operator is a {@link DataHessianOperator} on the Gauss-Newton matrix whose model provides them,
     * or on the empirical Fisher (the per-sample gradients),
     * and they {@link FactoredGaussNewtonOperator#fits} (c backward passes to build, where the dense
     * matrix would take p products), else the dense matrix when it
     * {@link PrecomputedHessianOperator#fits}, else {@code null} after logging on {@code log} and
     * adding to {@code warnings} that the request could not be honoured, ending in {@code consequence}.
     */
    static PrecomputedOperator ifFits(HessianOperator operator, String consequence, List<String> warnings,
                                      Logger log) {
        if (FactoredGaussNewtonOperator.fits(operator)) {
            try {
                return new FactoredGaussNewtonOperator((DataHessianOperator) operator);
            } catch (UnsupportedOperationException e) {
                log.debug("no Gauss-Newton factors ({}); trying the dense matrix", e.getMessage());
            }
        }
        if (PrecomputedHessianOperator.fits(operator)) {
            return new PrecomputedHessianOperator(operator);
        }
        String w = "precompute was requested but the dense " + operator.dimension() + " x " + operator.dimension()
                + " operator exceeds " + PrecomputedHessianOperator.MAX_BYTES + " bytes; " + consequence;
        log.warn(w);
        warnings.add(w);
        return null;
    }
}
