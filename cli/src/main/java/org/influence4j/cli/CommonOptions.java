package org.influence4j.cli;

import picocli.CommandLine.Option;

/**
 * {@link BackendOptions} plus {@code --method}, the inversion method of the influence-function
 * commands and the demo, resolved through the inversion registry: any method name a registered
 * solver factory names works, a plugin's too (its jar on the class path, its factory in
 * {@code META-INF/services}); {@link InversionOptions} adds the curvature.
 */
class CommonOptions extends BackendOptions {

    @Option(names = "--method", description = "Inversion method registered in the inversion registry: direct, cg, lissa, arnoldi, nystroem, ekfac, or one that a solver plugin on the class path adds (default: influence.inversion.method).")
    String method;

    @Override
    String method() {
        return method;
    }
}
