/**
 * Core contracts of influence4j: backend-resident {@link org.influence4j.api.Tensor tensors}
 * with explicit {@link org.influence4j.api.TensorScope lifetimes}, the
 * {@link org.influence4j.api.Backend backend} SPI discovered through
 * {@link org.influence4j.api.BackendProvider} and {@code META-INF/services}, and the
 * {@link org.influence4j.api.TwiceDifferentiable} view of a model that every solver works on, and
 * {@link org.influence4j.api.TensorChecks}, the argument checks (with their messages) that every
 * backend's tensors and scopes share.
 *
 * <p>Callers need no compile-time dependency on any backend: models come from a portable spec
 * ({@link org.influence4j.api.Backend#createModel}) or, for an engine's own saved format such as
 * TorchScript, from {@link org.influence4j.api.Backend#loadModel} behind a
 * {@link org.influence4j.api.BackendCapability capability}; native threads are sized through
 * {@link org.influence4j.api.BackendProvider#THREADS_PROPERTY}. A backend may live in a class loader
 * of its own (a plugin): only the types of this module are shared between it and the application.
 *
 * <p>This module holds no native code and depends only on {@code slf4j-api}.
 */
package org.influence4j.api;
