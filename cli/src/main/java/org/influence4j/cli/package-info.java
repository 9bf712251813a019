/**
 * The {@code influence4j} command line ({@link org.influence4j.cli.Influence4jCommand}): the digits
 * demo with its HTML report, {@code train}, {@code influences}, {@code self-influence},
 * {@code top-k}, {@code tracin}, {@code validate}, {@code compare} and {@code backends}. The CLI
 * compiles against no backend: each backend is a plugin folder (see
 * {@link org.influence4j.registry.plugins}) named by {@code -Dinfluence4j.backends}, which the
 * launcher {@code bin/influence4j} sets; the backend of a command comes from the Guice injector of
 * {@link org.influence4j.registry.InfluenceModule} (and the modules of {@code influence.guice.modules}),
 * TorchScript models from {@link org.influence4j.api.Backend#loadModel}. Backends are resolved by
 * name through {@link org.influence4j.registry.BackendDiscovery} and inversion methods through the
 * inversion registry, so modules added later plug in by name. Data is CSV or
 * typed arrays ({@code .npy}, {@code .npz}, {@code .safetensors}; see {@link org.influence4j.cli.ModelInput}),
 * and the influence-function commands invert the Hessian or the Gauss-Newton matrix
 * ({@code --curvature}). Exit codes:
 * 0 success, 1 failure, 2 usage error, 3 numerically unreliable result (a solve that did not converge, a
 * singular or indefinite curvature; nothing written); errors are one line unless {@code --verbose}.
 */
package org.influence4j.cli;
