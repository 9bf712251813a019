package org.influence4j.cli;

import picocli.CommandLine.Option;

/**
 * {@link BackendOptions} plus {@code --method}, the inversion method of the influence-function
 * commands and the demo, resolved through the inversion registry (solvers added later are usable by
 * name); {@link InversionOptions} adds the curvature.
 */
class CommonOptions extends BackendOptions {

    @Option(names = "--method", description = "Inversion method registered in the inversion registry, e.g. direct or cg (default: influence.inversion.method).")
    String method;

    @Override
    String method() {
        return method;
    }
}
