/**
 * The {@code influence4j} command line ({@link org.influence4j.cli.Influence4jCommand}): the digits
 * demo with its HTML report, {@code train}, {@code influences}, {@code self-influence},
 * {@code top-k}, {@code tracin}, {@code validate}, {@code compare} and {@code backends}. Backends
 * are resolved by name through {@link org.influence4j.registry.BackendDiscovery} and inversion
 * methods through the inversion registry, so modules added later plug in by name. Data is CSV or
 * typed arrays ({@code .npy}, {@code .npz}, {@code .safetensors}; see {@link org.influence4j.cli.ModelInput}),
 * and the influence-function commands invert the Hessian or the Gauss-Newton matrix
 * ({@code --curvature}). Exit codes:
 * 0 success, 1 failure, 2 usage error; errors are one line unless {@code --verbose}.
 */
package org.influence4j.cli;
