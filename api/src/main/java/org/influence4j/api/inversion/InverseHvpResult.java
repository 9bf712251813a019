package org.influence4j.api.inversion;

import org.influence4j.api.Tensor;

/**
 * Solutions of {@code A x = b} and how they were obtained.
 *
 * @param x    the solutions, same shape as the right-hand sides
 * @param info diagnostics (iterations, residuals, warnings)
 */
public record InverseHvpResult(Tensor x, SolverInfo info) {

    public InverseHvpResult {
        if (x == null || info == null) {
            throw new IllegalArgumentException("InverseHvpResult: x and info must not be null");
        }
    }
}
