/**
 * Core contracts of influence4j: backend-resident {@link org.influence4j.api.Tensor tensors}
 * with explicit {@link org.influence4j.api.TensorScope lifetimes}, the
 * {@link org.influence4j.api.Backend backend} SPI discovered through
 * {@link org.influence4j.api.BackendProvider} and {@code META-INF/services}, and the
 * {@link org.influence4j.api.TwiceDifferentiable} view of a model that every solver works on, and
 * {@link org.influence4j.api.TensorChecks}, the argument checks (with their messages) that every
 * backend's tensors and scopes share.
 *
 * <p>This module holds no native code and depends only on {@code slf4j-api}.
 */
package org.influence4j.api;
