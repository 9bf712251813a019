/**
 * ONNX import: {@link org.influence4j.onnx.OnnxModels#read} turns a model exported by
 * {@code torch.onnx.export} into a format-2 layer graph
 * ({@link org.influence4j.api.model.ModelGraph}) with its parameters, so it runs on every backend;
 * unsupported ops, weights as graph inputs and malformed files are refused with a one-line error
 * naming the file.
 */
package org.influence4j.onnx;
