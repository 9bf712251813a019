package org.influence4j.calculators.attribution;

import java.util.Arrays;

/**
 * The k highest- or lowest-ranked training points for each of m test points, shared by every
 * attribution method of this project.
 *
 * <p><b>Contract.</b> Row i belongs to test point i (in the order of the test batch).
 * {@code indices[i][r]} is the position of a training point in the training data (0-based, in the
 * order the training source yields its samples) and {@code scores[i][r]} its score on test point i,
 * with the sign convention of {@link TrainingDataAttribution} (positive = proponent). Rows are
 * ordered by {@link #order()}: for {@link TopKOrder#PROPONENTS} scores descend, for
 * {@link TopKOrder#OPPONENTS} they ascend; equal scores are ordered by ascending index. Hence the
 * result equals the first k entries of a stable sort of each row of the full m×n score matrix.
 * For a top-k over the training set itself (one ranking, e.g. by self-influence) m = 1.
 *
 * @param indices {@code [m][k]} training indices
 * @param scores  {@code [m][k]} the matching scores
 * @param order   which end of the ranking is returned
 */
public record TopK(long[][] indices, double[][] scores, TopKOrder order) {

    /** @throws IllegalArgumentException if the shapes of indices and scores differ */
    public TopK {
        if (indices == null || scores == null || order == null) {
            throw new IllegalArgumentException("TopK: indices, scores and order must not be null");
        }
        if (indices.length != scores.length) {
            throw new IllegalArgumentException("TopK: " + indices.length + " index rows but " + scores.length
                    + " score rows");
        }
        long[][] ic = new long[indices.length][];
        double[][] sc = new double[scores.length][];
        for (int i = 0; i < indices.length; i++) {
            if (indices[i].length != scores[i].length) {
                throw new IllegalArgumentException("TopK: row " + i + " has " + indices[i].length + " indices but "
                        + scores[i].length + " scores");
            }
            ic[i] = indices[i].clone();
            sc[i] = scores[i].clone();
        }
        indices = ic;
        scores = sc;
    }

    /** @return m, the number of test points (rows) */
    public int numRows() {
        return indices.length;
    }

    /** @return k, the number of entries per row */
    public int k() {
        return indices.length == 0 ? 0 : indices[0].length;
    }

    /** @return a copy of the indices of row {@code row} */
    public long[] indices(int row) {
        return indices[row].clone();
    }

    /** @return a copy of the scores of row {@code row} */
    public double[] scores(int row) {
        return scores[row].clone();
    }

    @Override
    public long[][] indices() {
        long[][] out = new long[indices.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = indices[i].clone();
        }
        return out;
    }

    @Override
    public double[][] scores() {
        double[][] out = new double[scores.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = scores[i].clone();
        }
        return out;
    }

    /**
     * Exact top-k of each row of a full score matrix (the reference the streaming selection equals).
     *
     * @param scores row-major {@code [m, n]}
     * @throws IllegalArgumentException if k is not in [1, n] or the length is not m·n
     */
    public static TopK ofMatrix(double[] scores, int m, int n, int k, TopKOrder order) {
        StreamingTopK s = new StreamingTopK(m, k, order);
        s.accept(scores, n, 0);
        return s.result(n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopK t && order == t.order && Arrays.deepEquals(indices, t.indices)
                && Arrays.deepEquals(scores, t.scores);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.deepHashCode(indices) + Arrays.deepHashCode(scores) + order.hashCode();
    }

    @Override
    public String toString() {
        return "TopK[m=" + numRows() + ", k=" + k() + ", " + order + "]";
    }
}
