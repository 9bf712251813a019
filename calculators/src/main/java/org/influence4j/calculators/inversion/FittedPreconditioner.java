package org.influence4j.calculators.inversion;

import java.util.Map;
import org.influence4j.api.TensorScope;

/**
 * The part shared by the preconditioners of this package: the fitted state lives in one backend
 * scope, freed by {@link #close()}, and the {@link #details()} are fixed when fitting.
 */
abstract class FittedPreconditioner implements Preconditioner {

    /** Owner of the fitted tensors. */
    final TensorScope scope;
    private final Map<String, Object> details;

    /**
     * @param scope   owner of the fitted tensors, closed by {@link #close()}
     * @param details what the fit found (kept as given)
     */
    FittedPreconditioner(TensorScope scope, Map<String, Object> details) {
        this.scope = scope;
        this.details = details;
    }

    @Override
    public Map<String, Object> details() {
        return details;
    }

    @Override
    public void close() {
        scope.close();
    }
}
