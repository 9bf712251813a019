package org.influence4j.calculators.inversion;

import java.util.Map;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * An approximate inverse {@code M⁻¹ ≈ A⁻¹} of a {@link org.influence4j.api.inversion.HessianOperator},
 * symmetric positive definite, applied by the conjugate gradient solvers to every residual
 * (pyDVL's {@code PreConditioner}). Instances are fitted to one operator, may hold backend memory
 * (close them) and are not thread-safe.
 */
public interface Preconditioner extends AutoCloseable {

    /**
     * @param residuals rows {@code [k, p]}
     * @return {@code M⁻¹} applied to every row, shape {@code [k, p]}, owned by {@code scope}
     */
    Tensor apply(Tensor residuals, TensorScope scope);

    /** @return what the fit found (e.g. {@code "rank"}, {@code "eigenvalues"}), reported in solver details */
    Map<String, Object> details();

    /** Frees backend memory. Idempotent. */
    @Override
    void close();
}
