package org.influence4j.api.data;

import java.util.Arrays;
import java.util.List;
import org.influence4j.api.DType;

/**
 * A chunk of n samples on the Java heap: features as a typed host array {@code [n, ...]} (float32
 * images stay {@code float[]}, token ids stay {@code long[]}; see {@link HostArray}) and labels y
 * (row-major {@code [n, labelWidth]} doubles; class indices and binary labels have width 1).
 * {@link #numFeatures()} is the number of feature values per sample, the product of the
 * features' shape after n.
 *
 * <p>Arrays are not copied (batches are read in hot loops); callers must not modify them after
 * construction. {@link #slice}, {@link #select} and {@link #concat} copy and keep the storage type.
 * Equality is identity.
 */
public final class Batch implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private final HostArray features;
    private final int numFeatures;
    private final double[] y;
    private final int labelWidth;

    /**
     * A batch of float64 features {@code [n, numFeatures]}.
     *
     * @param x           features, length {@code n * numFeatures}
     * @param numFeatures features per sample
     * @param y           labels/targets, length {@code n * labelWidth}
     * @param labelWidth  labels per sample
     * @throws IllegalArgumentException if the lengths do not give the same n
     */
    public Batch(double[] x, int numFeatures, double[] y, int labelWidth) {
        this(float64(x, numFeatures), y, labelWidth);
    }

    /**
     * A batch of typed features.
     *
     * @param features   features {@code [n, ...]} in any storage (rank ≥ 2)
     * @param y          labels/targets, length {@code n * labelWidth}
     * @param labelWidth labels per sample
     * @throws IllegalArgumentException if features have rank below 2, no values per sample, or
     *     another n than the labels
     */
    public Batch(HostArray features, double[] y, int labelWidth) {
        if (features == null || y == null) {
            throw new IllegalArgumentException("batch: x and y must not be null");
        }
        long[] shape = features.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("batch: features have shape " + Arrays.toString(shape)
                    + "; they need one row per sample, [n, ...]");
        }
        long width = 1;
        for (int i = 1; i < shape.length; i++) {
            width *= shape[i];
        }
        if (width <= 0 || labelWidth <= 0) {
            throw new IllegalArgumentException("batch: numFeatures and labelWidth must be positive, got "
                    + width + " and " + labelWidth);
        }
        if (y.length % labelWidth != 0) {
            throw new IllegalArgumentException("batch: y has " + y.length + " values, not a multiple of labelWidth="
                    + labelWidth);
        }
        if (shape[0] != y.length / labelWidth) {
            throw new IllegalArgumentException("batch: x has " + shape[0] + " samples but y has "
                    + y.length / labelWidth + "; x and y must have the same number of rows");
        }
        this.features = features;
        this.numFeatures = Math.toIntExact(width);
        this.y = y;
        this.labelWidth = labelWidth;
    }

    private static HostArray float64(double[] x, int numFeatures) {
        if (x == null) {
            throw new IllegalArgumentException("batch: x and y must not be null");
        }
        if (numFeatures <= 0) {
            throw new IllegalArgumentException("batch: numFeatures must be positive, got " + numFeatures);
        }
        if (x.length % numFeatures != 0) {
            throw new IllegalArgumentException("batch: x has " + x.length + " values, not a multiple of numFeatures="
                    + numFeatures);
        }
        return new HostArray(x, new long[] {x.length / numFeatures, numFeatures}, DType.FLOAT64);
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

    /** @return the features {@code [n, ...]} in their storage type */
    public HostArray features() {
        return features;
    }

    /**
     * @return the features as row-major doubles {@code [n * numFeatures]}: the storage itself for
     *     float64 features, else a converted copy (prefer {@link #features()} in hot paths)
     */
    public double[] x() {
        return features.doubles();
    }

    /** @return feature values per sample */
    public int numFeatures() {
        return numFeatures;
    }

    /** @return labels/targets, row-major {@code [n, labelWidth]} */
    public double[] y() {
        return y;
    }

    /** @return labels per sample */
    public int labelWidth() {
        return labelWidth;
    }

    /** @return n, the number of samples */
    public int size() {
        return y.length / labelWidth;
    }

    /** @return samples {@code [from, to)} as a new batch (copies) */
    public Batch slice(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("batch slice [" + from + ", " + to + ") of " + size() + " samples");
        }
        return new Batch(features.copyOfRange(from * numFeatures, to * numFeatures, withRows(to - from)),
                Arrays.copyOfRange(y, from * labelWidth, to * labelWidth), labelWidth);
    }

    /** @return the samples at {@code indices} in that order (copies) */
    public Batch select(int[] indices) {
        double[] ny = new double[indices.length * labelWidth];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= size()) {
                throw new IndexOutOfBoundsException("batch index " + i + " of " + size() + " samples");
            }
            System.arraycopy(y, i * labelWidth, ny, k * labelWidth, labelWidth);
        }
        return new Batch(features.selectRows(indices, numFeatures, withRows(indices.length)), ny, labelWidth);
    }

    /**
     * @return this batch followed by {@code other} (copies), with this batch's per-sample shape
     * @throws IllegalArgumentException if widths or storage types differ
     */
    public Batch concat(Batch other) {
        if (other.numFeatures != numFeatures || other.labelWidth != labelWidth) {
            throw new IllegalArgumentException("batch: cannot concatenate batches of different widths");
        }
        double[] ny = Arrays.copyOf(y, y.length + other.y.length);
        System.arraycopy(other.y, 0, ny, y.length, other.y.length);
        return new Batch(HostArray.concat(List.of(features, other.features), withRows(size() + other.size())), ny,
                labelWidth);
    }

    /** @return the features' shape with n replaced by {@code n} */
    private long[] withRows(long n) {
        long[] shape = features.shape();
        shape[0] = n;
        return shape;
    }

    /**
     * @throws IllegalArgumentException naming {@code argument} and the first NaN/Inf in x or y
     */
    public void requireFinite(String argument) {
        int i = features.firstNonFinite();
        if (i >= 0) {
            throw new IllegalArgumentException(argument + ": x[" + i / numFeatures + "][" + i % numFeatures
                    + "] is " + features.get(i) + "; data must be finite");
        }
        for (int j = 0; j < y.length; j++) {
            if (!Double.isFinite(y[j])) {
                throw new IllegalArgumentException(argument + ": y[" + j / labelWidth + "] is " + y[j]
                        + "; labels must be finite");
            }
        }
    }

    @Override
    public String toString() {
        return "Batch[n=" + size() + ", features=" + numFeatures + ", labelWidth=" + labelWidth
                + (features.storage() == HostArray.Storage.FLOAT64 ? "" : ", storage=" + features.storage()) + "]";
    }
}
