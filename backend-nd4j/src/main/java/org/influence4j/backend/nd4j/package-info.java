/**
 * The ND4J backend of influence4j: tensors and {@link org.influence4j.api.TwiceDifferentiable}
 * models on ND4J (CPU with OpenBLAS by default; CUDA with the Maven profile {@code -Pnd4j-cuda}).
 *
 * <ul>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jBackendProvider} — the service provider
 *       ({@code nd4j}, rank 20), discovered through {@code META-INF/services};</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jBackend} — scopes and models;</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jTensorScope} / {@link org.influence4j.backend.nd4j.Nd4jTensor}
 *       — explicitly closed {@code INDArray}s behind the api's tensor contracts;</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jModel} — a {@link org.influence4j.api.model.ModelSpec}
 *       with explicit forward, backward and R-operator (Pearlmutter) passes: exact gradients,
 *       batched per-sample gradients, exact Hessian-vector products and mixed derivatives.</li>
 * </ul>
 */
package org.influence4j.backend.nd4j;
