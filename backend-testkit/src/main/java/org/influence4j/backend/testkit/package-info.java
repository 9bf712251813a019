/**
 * The test suite every tensor backend must pass, written once against the {@code api} contracts:
 * abstract JUnit 5 classes ({@code Abstract*Test}) that a backend module's tests extend with a few
 * lines naming the backend, and {@link org.influence4j.backend.testkit.TestSupport}, random data and
 * a plain-Java double-precision reference of a model spec (outputs, losses, finite-difference
 * gradients) that shares no code with any backend, {@link org.influence4j.backend.testkit.GraphFixture},
 * the PyTorch and ONNX reference fixtures made by the scripts in {@code backend-testkit/src/test-fixtures/},
 * and {@link org.influence4j.backend.testkit.PluginJars}, which compiles a plugin jar (a backend or a
 * solver factory with its {@code META-INF/services} entries) at test time. This module ships test
 * code: modules depend on it in {@code test} scope only.
 */
package org.influence4j.backend.testkit;
