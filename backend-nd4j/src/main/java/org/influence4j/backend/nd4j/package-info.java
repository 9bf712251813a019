/**
 * The ND4J backend of influence4j: tensors and {@link org.influence4j.api.TwiceDifferentiable}
 * models on ND4J (CPU with OpenBLAS by default; CUDA with the Maven profile {@code -Pnd4j-cuda}),
 * for Dense specs and for layer graphs (model description format 2).
 *
 * <ul>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jBackendProvider} — the service provider
 *       ({@code nd4j}, rank 20), discovered through {@code META-INF/services};</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jBackend} — scopes and models;</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jTensorScope} / {@link org.influence4j.backend.nd4j.Nd4jTensor}
 *       — explicitly closed {@code INDArray}s behind the api's tensor contracts;</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jModel} — a Dense (format-1)
 *       {@link org.influence4j.api.model.ModelSpec} with explicit forward, backward and R-operator (Pearlmutter) passes: exact gradients,
 *       batched per-sample gradients, exact Hessian-vector products and mixed derivatives;</li>
 *   <li>{@link org.influence4j.backend.nd4j.Nd4jGraphModel} — a layer graph
 *       ({@link org.influence4j.api.model.ModelSpec#isGraph()}: convolutions, pooling, embeddings,
 *       layer/batch norm, residual add, GELU) whose derivatives are those of the {@code graph}
 *       module's {@link org.influence4j.graph.GraphDerivatives}: exact gradients, batched
 *       per-sample gradients, Hessian-vector products (forward over reverse), Gauss-Newton-vector
 *       products (J v in forward mode), mixed
 *       derivatives;</li>
 *   <li>{@code Nd4jKernels} — the graph module's primitive array operations on {@code INDArray}s,
 *       every result freed with its call's {@code Nd4jArena}.</li>
 * </ul>
 */
package org.influence4j.backend.nd4j;
