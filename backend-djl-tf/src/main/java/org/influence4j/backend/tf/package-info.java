/**
 * The {@code djl-tf} backend: tensors on DJL's TensorFlow engine (TensorFlow 2.16, natives from
 * {@code org.tensorflow:tensorflow-core-native} on Maven Central, extracted at run time) and
 * {@link org.influence4j.api.TwiceDifferentiable} models built as TensorFlow graphs.
 *
 * <ul>
 *   <li>{@link org.influence4j.backend.tf.TfBackendProvider} — the service provider ({@code djl-tf},
 *       rank 10), discovered through {@code META-INF/services};</li>
 *   <li>{@link org.influence4j.backend.tf.TfBackend} — scopes and models;</li>
 *   <li>{@link org.influence4j.backend.tf.TfTensorScope} / {@link org.influence4j.backend.tf.TfTensor}
 *       — DJL {@code NDManager} / {@code NDArray} of the TensorFlow engine (eager tensors) behind the
 *       api's tensor contracts;</li>
 *   <li>{@link org.influence4j.backend.tf.TfModel} — a Dense (format-1)
 *       {@link org.influence4j.api.model.ModelSpec} as a TF-Java graph
 *       ({@code TfModelGraph}) with symbolic gradients, batched per-sample
 *       gradients and exact Hessian-vector products ({@code Graph.addGradients} with explicit seeds);
 *       a layer graph is a {@link org.influence4j.backend.djl.DjlGraphModel} on eager TensorFlow
 *       kernels.</li>
 * </ul>
 */
package org.influence4j.backend.tf;
