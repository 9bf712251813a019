package org.influence4j.cli;

import picocli.CommandLine.Option;

/**
 * {@link CommonOptions} plus {@code --curvature}, the matrix the influence-function commands
 * ({@code influences}, {@code self-influence}, {@code top-k}, {@code validate}, {@code compare})
 * invert: {@code hessian}, {@code gauss-newton} or {@code empirical-fisher} ({@link org.influence4j.api.inversion.Curvature}),
 * by default the configured {@code influence.curvature}; and {@code --allow-unconverged}, which sets
 * the chosen method's {@link org.influence4j.api.inversion.SolverSettings#ALLOW_UNCONVERGED} setting.
 */
final class InversionOptions extends CommonOptions {

    @Option(names = "--curvature", description = "Matrix inverted, plus λI: hessian (exact), gauss-newton"
            + " (positive semi-definite; layer-graph models) or empirical-fisher (mean outer product of the"
            + " per-sample gradients: pyDVL's GAUSS_NEWTON mode) (default: influence.curvature, i.e. hessian).")
    String curvature;

    @Option(names = "--allow-unconverged", description = "Keep the numbers of an iterative solve (cg, lissa,"
            + " arnoldi) that misses its tolerance, recorded as converged = false, instead of failing with exit code 3"
            + " (sets influence.inversion.<method>.allow_unconverged).")
    boolean allowUnconverged;

    @Override
    String curvature() {
        return curvature;
    }

    @Override
    boolean allowUnconverged() {
        return allowUnconverged;
    }
}
