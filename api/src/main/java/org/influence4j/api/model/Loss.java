package org.influence4j.api.model;

import java.util.Locale;

/**
 * Per-sample losses ℓ(y, f) of a {@link ModelSpec}. Batch losses are means over samples.
 *
 * <ul>
 *   <li>{@link #MSE}: f and y are {@code [outputDim]}; ℓ = (1/outputDim) Σ_k (f_k − y_k)², so the
 *       batch mean equals PyTorch's {@code MSELoss(reduction="mean")}.</li>
 *   <li>{@link #SOFTMAX_CROSS_ENTROPY}: f are logits {@code [C]}, y a class index stored as a
 *       double; ℓ = −log softmax(f)_y ({@code CrossEntropyLoss}).</li>
 *   <li>{@link #BINARY_LOGISTIC}: f is one logit, y ∈ [0,1]; ℓ = log(1 + e^f) − y·f
 *       ({@code BCEWithLogitsLoss}).</li>
 * </ul>
 */
public enum Loss {
    /** Mean squared error. */
    MSE,
    /** Softmax cross-entropy over logits with integer class labels. */
    SOFTMAX_CROSS_ENTROPY,
    /** Binary cross-entropy on one logit. */
    BINARY_LOGISTIC;

    /** @return the lowercase JSON name */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the accepted values */
    public static Loss parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        switch (n) {
            case "mse" -> {
                return MSE;
            }
            case "softmax_cross_entropy", "cross_entropy", "ce" -> {
                return SOFTMAX_CROSS_ENTROPY;
            }
            case "binary_logistic", "bce", "logistic" -> {
                return BINARY_LOGISTIC;
            }
            default -> throw new IllegalArgumentException("loss: unknown value '" + name
                    + "'; use one of mse, softmax_cross_entropy, binary_logistic");
        }
    }
}
