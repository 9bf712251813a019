/**
 * The portable model description: a {@link org.influence4j.api.model.ModelSpec} of sequential
 * layers, a loss and a dtype, so that the same model with the same flat parameter vector runs on
 * every backend. Parameter order and names follow PyTorch's {@code nn.Sequential.named_parameters()}.
 *
 * <p>A spec may wrap a layer graph ({@link org.influence4j.api.model.ModelGraph}, model description
 * format 2, nodes {@link org.influence4j.api.model.GraphNode}, JSON by
 * {@link org.influence4j.api.model.ModelGraphJson}): typed inputs, convolutions, pooling,
 * embeddings, normalisation and residual connections under PyTorch module names, with batch-norm
 * running statistics as buffers. {@code org.influence4j.io.ParameterFiles#readState} (module io) reads a
 * PyTorch {@code state_dict} (parameters and buffers) by name.
 *
 * <p>{@link org.influence4j.api.model.NativeModelOptions} (with a
 * {@link org.influence4j.api.model.NativeModelFormat}) asks a backend to read a model saved in its
 * engine's own format instead, e.g. a TorchScript module, with the shape and kind (float or int64
 * ids) of one sample's input; such a model names its parameters through
 * {@link org.influence4j.api.TwiceDifferentiable#parameterLayout()}.
 *
 * <p>{@link org.influence4j.api.model.AbstractSpecModel} is the backend-independent part of a
 * backend's model built from a spec (accessors, θ, open/closed state, argument checks and their
 * messages); backends extend it with their own storage of θ and their derivatives.
 */
package org.influence4j.api.model;
