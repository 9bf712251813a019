package org.influence4j.cli;

import picocli.CommandLine.Option;

/**
 * {@link CommonOptions} plus {@code --curvature}, the matrix the influence-function commands
 * ({@code influences}, {@code self-influence}, {@code top-k}, {@code validate}, {@code compare})
 * invert: {@code hessian} or {@code gauss-newton} ({@link org.influence4j.api.inversion.Curvature}),
 * by default the configured {@code influence.curvature}.
 */
final class InversionOptions extends CommonOptions {

    @Option(names = "--curvature", description = "Matrix inverted, plus λI: hessian (exact) or gauss-newton"
            + " (positive semi-definite; layer-graph models) (default: influence.curvature, i.e. hessian).")
    String curvature;

    @Override
    String curvature() {
        return curvature;
    }
}
