package org.influence4j.api.model;

import java.util.List;

/**
 * One named node of a {@link ModelGraph}: a PyTorch module application. Node names are PyTorch
 * module names, so a node's parameters are {@code <name>.weight} and {@code <name>.bias} and its
 * buffers {@code <name>.running_mean} and {@code <name>.running_var}, exactly as in
 * {@code state_dict()}.
 *
 * <p>Shapes are per sample (the batch axis is not written): images {@code [C, H, W]}, token ids
 * {@code [T]}, embeddings {@code [T, D]}, features {@code [d]}.
 */
public sealed interface GraphNode permits GraphNode.Dense, GraphNode.Conv2d, GraphNode.Pool2d,
        GraphNode.GlobalAvgPool, GraphNode.Flatten, GraphNode.Embedding, GraphNode.LayerNorm,
        GraphNode.BatchNorm, GraphNode.Dropout, GraphNode.Add, GraphNode.Mean, GraphNode.Act {

    /** @return the PyTorch module name, unique in the graph */
    String name();

    /** @return names of the nodes (or {@link ModelGraph#INPUT}) whose outputs this node reads */
    List<String> inputs();

    /** @return the JSON {@code op} of this node */
    String op();

    /** A pair of ints {@code (h, w)} for kernel sizes, strides, paddings and dilations. */
    record Pair(int h, int w) {
        /** @return {@code (v, v)} */
        public static Pair of(int v) {
            return new Pair(v, v);
        }

        List<Integer> toList() {
            return List.of(h, w);
        }
    }

    /**
     * {@code nn.Linear} on the last axis: {@code y = x Wᵀ + b}, weight {@code [out, in]}, bias {@code [out]}.
     */
    record Dense(String name, List<String> inputs, int inFeatures, int outFeatures, boolean bias)
            implements GraphNode {
        public String op() {
            return "dense";
        }
    }

    /**
     * {@code nn.Conv2d} (groups = 1, zero padding): {@code [C, H, W] → [O, H', W']} with
     * {@code H' = ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1}; weight {@code [O, C, kh, kw]}, bias {@code [O]}.
     */
    record Conv2d(String name, List<String> inputs, int inChannels, int outChannels, Pair kernel, Pair stride,
                  Pair padding, Pair dilation, boolean bias) implements GraphNode {
        public String op() {
            return "conv2d";
        }
    }

    /**
     * {@code nn.MaxPool2d} or {@code nn.AvgPool2d} (padding counted in the average, as PyTorch's
     * default {@code count_include_pad=True}; max pooling never picks a padded position).
     *
     * @param max true for max pooling, false for average pooling
     */
    record Pool2d(String name, List<String> inputs, boolean max, Pair kernel, Pair stride, Pair padding)
            implements GraphNode {
        public String op() {
            return max ? "max_pool2d" : "avg_pool2d";
        }
    }

    /** The mean over H and W: {@code [C, H, W] → [C]} ({@code AdaptiveAvgPool2d(1)} + flatten). */
    record GlobalAvgPool(String name, List<String> inputs) implements GraphNode {
        public String op() {
            return "global_avg_pool";
        }
    }

    /** All per-sample axes into one ({@code nn.Flatten()}). */
    record Flatten(String name, List<String> inputs) implements GraphNode {
        public String op() {
            return "flatten";
        }
    }

    /** {@code nn.Embedding}: int64 ids {@code [..]} → {@code [.., D]}; weight {@code [V, D]}. */
    record Embedding(String name, List<String> inputs, int numEmbeddings, int embeddingDim) implements GraphNode {
        public String op() {
            return "embedding";
        }
    }

    /** {@code nn.LayerNorm(normalizedShape)} over the last axis; weight and bias {@code [D]} when affine. */
    record LayerNorm(String name, List<String> inputs, int normalizedShape, double eps, boolean affine)
            implements GraphNode {
        public String op() {
            return "layer_norm";
        }
    }

    /**
     * {@code nn.BatchNorm1d/2d} in inference form on axis 0 of {@code [C]} or {@code [C, ...]}:
     * {@code y = (x − running_mean)/√(running_var + eps)·w + b}. The running statistics are buffers
     * (constants), not parameters.
     */
    record BatchNorm(String name, List<String> inputs, int numFeatures, double eps, boolean affine)
            implements GraphNode {
        public String op() {
            return "batch_norm";
        }
    }

    /** {@code nn.Dropout(p)}: the identity (attribution is done in eval mode). */
    record Dropout(String name, List<String> inputs, double p) implements GraphNode {
        public String op() {
            return "dropout";
        }
    }

    /** The sum of two outputs of the same shape (a residual connection). */
    record Add(String name, List<String> inputs) implements GraphNode {
        public String op() {
            return "add";
        }
    }

    /** The mean over one per-sample axis, which is removed ({@code x.mean(dim=axis + 1)}). */
    record Mean(String name, List<String> inputs, int axis) implements GraphNode {
        public String op() {
            return "mean";
        }
    }

    /** An elementwise activation. */
    record Act(String name, List<String> inputs, Activation activation) implements GraphNode {
        public String op() {
            return activation.jsonName();
        }
    }
}
