package org.influence4j.api.inversion;

import java.util.List;
import java.util.Map;

/**
 * Diagnostics of one solve.
 *
 * @param method     the method used
 * @param iterations iterations performed (the maximum over right-hand sides; 0 for direct methods)
 * @param residuals  final relative residual norms {@code ‖b − A x‖ / ‖b‖}, one per right-hand side
 * @param converged  whether every right-hand side met its tolerance
 * @param warnings   human-readable warnings (e.g. maximum iterations reached)
 * @param details    method-specific values (e.g. {@code "eigenvalues"}, {@code "passes"})
 */
public record SolverInfo(InversionMethod method, int iterations, double[] residuals, boolean converged,
                         List<String> warnings, Map<String, Object> details) {

    public SolverInfo {
        residuals = residuals == null ? new double[0] : residuals.clone();
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
        details = details == null ? Map.of() : Map.copyOf(details);
    }

    @Override
    public double[] residuals() {
        return residuals.clone();
    }

    /** @return the largest final relative residual (0 if none was computed) */
    public double maxResidual() {
        double m = 0;
        for (double r : residuals) {
            m = Math.max(m, r);
        }
        return m;
    }
}
