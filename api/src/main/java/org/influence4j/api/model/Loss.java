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

    /**
     * The class probabilities {@code softmax(f)} of {@link #SOFTMAX_CROSS_ENTROPY} for rows of logits,
     * computed on the host with the row maximum subtracted first (no overflow).
     *
     * @param logits  row-major {@code [n, classes]}
     * @param classes C, positive, dividing {@code logits.length}
     * @return a new row-major {@code [n, classes]} array whose rows sum to 1
     * @throws IllegalArgumentException if {@code classes} does not divide the length
     */
    public static double[] softmaxRows(double[] logits, int classes) {
        if (classes <= 0 || logits.length % classes != 0) {
            throw new IllegalArgumentException("classes: " + classes + " does not divide the " + logits.length
                    + " logits into rows");
        }
        double[] p = new double[logits.length];
        for (int row = 0; row < logits.length; row += classes) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[row + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                p[row + c] = Math.exp(logits[row + c] - max);
                sum += p[row + c];
            }
            for (int c = 0; c < classes; c++) {
                p[row + c] /= sum;
            }
        }
        return p;
    }

    /**
     * The targets of a batch as this loss reads them: one-hot rows {@code [n, outputs]} of the class
     * indices for {@link #SOFTMAX_CROSS_ENTROPY}, otherwise the labels themselves.
     *
     * @param y       the batch's labels ({@code Batch.y()}), class indices already validated
     * @param outputs the model's output width
     * @return a new one-hot array, or {@code y} itself (not copied)
     */
    public double[] targets(double[] y, int outputs) {
        if (this != SOFTMAX_CROSS_ENTROPY) {
            return y;
        }
        double[] oneHot = new double[y.length * outputs];
        for (int i = 0; i < y.length; i++) {
            oneHot[i * outputs + (int) y[i]] = 1.0;
        }
        return oneHot;
    }

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
