/**
 * Backend plugins: a backend and its native libraries in a class loader of their own, so that
 * backends whose dependencies clash (DJL TensorFlow needs javacpp 1.5.10, ND4J 1.0.0-M2.1 exactly
 * javacpp 1.5.7) run side by side in one JVM.
 *
 * <p>A <em>backends folder</em> holds one subfolder per plugin (e.g. {@code backends/djl-pytorch/},
 * {@code backends/djl-tf/}, {@code backends/nd4j/}); a plugin folder holds the jars of one backend
 * module and of its runtime dependencies, among them a
 * {@code META-INF/services/org.influence4j.api.BackendProvider} entry. Each plugin folder gets one
 * {@link java.net.URLClassLoader} whose parent shares only the packages
 * {@link org.influence4j.registry.plugins.BackendPlugin#SHARED_PACKAGES} (influence4j's api and
 * SLF4J) with the application and otherwise sees only the JDK: a {@code Tensor} or
 * {@code TwiceDifferentiable} made by a plugin is the application's type, everything else
 * (influence4j-graph, DJL, ND4J, javacpp, natives) is the plugin's own.
 * {@link org.influence4j.registry.plugins.BackendPlugins} finds the plugin folders of the
 * backends folders named by the system property {@value org.influence4j.registry.plugins.BackendPlugins#PROPERTY};
 * {@link org.influence4j.registry.BackendDiscovery} adds their providers to those of the class path.
 */
package org.influence4j.registry.plugins;
