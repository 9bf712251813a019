package org.influence4j.api.data;

import java.util.Arrays;

/**
 * A chunk of n samples on the Java heap: features x (row-major {@code [n, numFeatures]}) and
 * labels y (row-major {@code [n, labelWidth]}; class indices and binary labels have width 1).
 *
 * <p>The arrays are not copied (batches are read in hot loops); callers must not modify them
 * after construction.
 *
 * @param x           features, length {@code n * numFeatures}
 * @param numFeatures features per sample
 * @param y           labels/targets, length {@code n * labelWidth}
 * @param labelWidth  labels per sample
 */
public record Batch(double[] x, int numFeatures, double[] y, int labelWidth) {

    public Batch {
        if (x == null || y == null) {
            throw new IllegalArgumentException("batch: x and y must not be null");
        }
        if (numFeatures <= 0 || labelWidth <= 0) {
            throw new IllegalArgumentException("batch: numFeatures and labelWidth must be positive, got "
                    + numFeatures + " and " + labelWidth);
        }
        if (x.length % numFeatures != 0) {
            throw new IllegalArgumentException("batch: x has " + x.length + " values, not a multiple of numFeatures="
                    + numFeatures);
        }
        if (y.length % labelWidth != 0) {
            throw new IllegalArgumentException("batch: y has " + y.length + " values, not a multiple of labelWidth="
                    + labelWidth);
        }
        if (x.length / numFeatures != y.length / labelWidth) {
            throw new IllegalArgumentException("batch: x has " + x.length / numFeatures + " samples but y has "
                    + y.length / labelWidth + "; x and y must have the same number of rows");
        }
    }

    /**
     * A batch from row arrays and one label per row.
     *
     * @throws IllegalArgumentException if rows are ragged or x and y differ in length
     */
    public static Batch of(double[][] x, double[] y) {
        if (x == null || y == null) {
            throw new IllegalArgumentException("batch: x and y must not be null");
        }
        if (x.length != y.length) {
            throw new IllegalArgumentException("batch: x has " + x.length + " rows but y has " + y.length
                    + "; x and y must have the same number of rows");
        }
        if (x.length == 0) {
            throw new IllegalArgumentException("batch: x and y are empty; a batch needs at least one sample");
        }
        int d = x[0].length;
        double[] flat = new double[x.length * d];
        for (int i = 0; i < x.length; i++) {
            if (x[i].length != d) {
                throw new IllegalArgumentException("batch: row " + i + " of x has " + x[i].length
                        + " features but row 0 has " + d);
            }
            System.arraycopy(x[i], 0, flat, i * d, d);
        }
        return new Batch(flat, d, y.clone(), 1);
    }

    /** @return n, the number of samples */
    public int size() {
        return x.length / numFeatures;
    }

    /** @return samples {@code [from, to)} as a new batch (copies) */
    public Batch slice(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("batch slice [" + from + ", " + to + ") of " + size() + " samples");
        }
        return new Batch(Arrays.copyOfRange(x, from * numFeatures, to * numFeatures), numFeatures,
                Arrays.copyOfRange(y, from * labelWidth, to * labelWidth), labelWidth);
    }

    /** @return the samples at {@code indices} in that order (copies) */
    public Batch select(int[] indices) {
        double[] nx = new double[indices.length * numFeatures];
        double[] ny = new double[indices.length * labelWidth];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= size()) {
                throw new IndexOutOfBoundsException("batch index " + i + " of " + size() + " samples");
            }
            System.arraycopy(x, i * numFeatures, nx, k * numFeatures, numFeatures);
            System.arraycopy(y, i * labelWidth, ny, k * labelWidth, labelWidth);
        }
        return new Batch(nx, numFeatures, ny, labelWidth);
    }

    /** @return this batch followed by {@code other} (copies) */
    public Batch concat(Batch other) {
        if (other.numFeatures != numFeatures || other.labelWidth != labelWidth) {
            throw new IllegalArgumentException("batch: cannot concatenate batches of different widths");
        }
        double[] nx = Arrays.copyOf(x, x.length + other.x.length);
        System.arraycopy(other.x, 0, nx, x.length, other.x.length);
        double[] ny = Arrays.copyOf(y, y.length + other.y.length);
        System.arraycopy(other.y, 0, ny, y.length, other.y.length);
        return new Batch(nx, numFeatures, ny, labelWidth);
    }

    /**
     * @throws IllegalArgumentException naming {@code argument} and the first NaN/Inf in x or y
     */
    public void requireFinite(String argument) {
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException(argument + ": x[" + i / numFeatures + "][" + i % numFeatures
                        + "] is " + x[i] + "; data must be finite");
            }
        }
        for (int i = 0; i < y.length; i++) {
            if (!Double.isFinite(y[i])) {
                throw new IllegalArgumentException(argument + ": y[" + i / labelWidth + "] is " + y[i]
                        + "; labels must be finite");
            }
        }
    }

    @Override
    public String toString() {
        return "Batch[n=" + size() + ", features=" + numFeatures + ", labelWidth=" + labelWidth + "]";
    }
}
