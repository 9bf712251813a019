/**
 * Wiring of influence4j: {@link java.util.ServiceLoader} discovery of
 * {@link org.influence4j.registry.BackendDiscovery backends} (on the class path and in backend
 * plugin folders, each in a class loader of its own: {@link org.influence4j.registry.plugins}) and of
 * inverse-HVP solver factories,
 * the {@link org.influence4j.registry.DefaultInversionRegistry inversion registry} with pyDVL's
 * semantics, layered configuration through Apache Commons Configuration
 * ({@link org.influence4j.registry.InfluenceConfiguration}, {@link org.influence4j.registry.ConfigKeys},
 * the immutable {@link org.influence4j.registry.InfluenceSettings}) and the Guice
 * {@link org.influence4j.registry.InfluenceModule} (with the user modules named by
 * {@code influence.guice.modules}), which hands out the {@code Backend} and the
 * {@link org.influence4j.registry.InfluenceModelFactory} that builds influence models with the
 * configured method.
 *
 * <p>Everything here can also be used without Guice: discovery, registry and settings are plain
 * Java classes, and {@link org.influence4j.registry.InfluenceModelFactory} has a public
 * constructor. Algorithms never see a {@code Configuration}: they receive immutable records.
 */
package org.influence4j.registry;
