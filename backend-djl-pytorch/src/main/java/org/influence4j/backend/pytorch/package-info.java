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
 *   <li>{@link org.influence4j.backend.pytorch.PtModel} — a Dense (format-1)
 *       {@link org.influence4j.api.model.ModelSpec} with exact gradients, batched per-sample gradients
 *       and exact Hessian-vector products; a layer graph is a
 *       {@link org.influence4j.backend.djl.DjlGraphModel} on PyTorch's arrays;</li>
 *   <li>{@link org.influence4j.backend.pytorch.PtTorchScriptModel} — a TorchScript module in eval
 *       mode on N-D float or int64 inputs, read by {@link org.influence4j.api.Backend#loadModel}
 *       (capability {@code TORCHSCRIPT}); its derivatives go through {@code torch.autograd.grad} in the
 *       bundled helper module {@code autograd-grad.pt} (made by
 *       {@code src/main/torchscript/make_autograd_grad.py}).</li>
 * </ul>
 */
package org.influence4j.backend.pytorch;
