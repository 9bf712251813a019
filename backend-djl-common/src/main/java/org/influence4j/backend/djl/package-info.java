/**
 * What the DJL backends share: the api's tensor contracts over DJL's engine-neutral
 * {@code NDArray} / {@code NDManager}.
 *
 * <ul>
 *   <li>{@link org.influence4j.backend.djl.DjlTensor} — a {@link org.influence4j.api.Tensor} over an
 *       {@code NDArray} (shape checks, dtype promotion to the receiver's dtype, ownership);</li>
 *   <li>{@link org.influence4j.backend.djl.DjlTensorScope} — a {@link org.influence4j.api.TensorScope}
 *       over an {@code NDManager}, with the engine-specific hooks (how host data and scalars become
 *       arrays, matrix-vector products, which tensors and scopes belong to the backend);</li>
 *   <li>{@link org.influence4j.backend.djl.DjlDTypes} — conversions between influence4j's
 *       {@link org.influence4j.api.DType}, DJL's {@code DataType} and host arrays;</li>
 *   <li>{@link org.influence4j.backend.djl.DjlBackend} — name, version, capabilities and scope checks
 *       of a backend over a loaded DJL engine;</li>
 *   <li>{@link org.influence4j.backend.djl.DjlClassPath} — the class-path checks of the backends'
 *       service providers (no native code loaded);</li>
 *   <li>{@link org.influence4j.backend.djl.NativeAllocator} — the policy for glibc's {@code malloc}
 *       that a backend applies before its engine loads (freed blocks kept for reuse);</li>
 *   <li>{@link org.influence4j.backend.djl.DjlKernels} and
 *       {@link org.influence4j.backend.djl.DjlGraphModel} — layer graphs on any DJL engine: the
 *       graph module's primitive kernels over {@code NDArray}s (results attached to the call's
 *       manager, row gathering and array upload supplied by the engine).</li>
 * </ul>
 *
 * <p>This module loads no engine; each backend ({@code backend-djl-pytorch}, {@code backend-djl-tf})
 * subclasses the tensor and scope and implements the hooks for its engine.
 */
package org.influence4j.backend.djl;
