/**
 * The portable model description: a {@link org.influence4j.api.model.ModelSpec} of sequential
 * layers, a loss and a dtype, so that the same model with the same flat parameter vector runs on
 * every backend. Parameter order and names follow PyTorch's {@code nn.Sequential.named_parameters()}.
 */
package org.influence4j.api.model;
