/**
 * The default influence4j backend: tensors and {@link org.influence4j.api.TwiceDifferentiable}
 * models on DJL's PyTorch engine (CPU natives from Maven Central).
 *
 * <ul>
 *   <li>{@link org.influence4j.backend.pytorch.PtBackendProvider} — the service provider
 *       ({@code djl-pytorch}, rank 0), discovered through {@code META-INF/services};</li>
 *   <li>{@link org.influence4j.backend.pytorch.PtBackend} — scopes and models;</li>
 *   <li>{@link org.influence4j.backend.pytorch.PtTensorScope} / {@link org.influence4j.backend.pytorch.PtTensor}
 *       — {@code NDManager} / {@code NDArray} behind the api's tensor contracts;</li>
 *   <li>{@link org.influence4j.backend.pytorch.PtModel} — a {@link org.influence4j.api.model.ModelSpec}
 *       with exact gradients, batched per-sample gradients and exact Hessian-vector products.</li>
 * </ul>
 */
package org.influence4j.backend.pytorch;
