package org.influence4j.calculators.tracin;

import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * Inner products of the per-sample gradients of an Embedding table {@code [V, d]} held as the rows
 * the samples look up ({@link org.influence4j.api.GradientBlock.Kind#EMBEDDING_ROWS}): sample i's
 * gradient has row v equal to {@code g_{i,v} = Σ_{t: id_{i,t} = v} δ_{i,t}} and zeros elsewhere, so
 * {@code ⟨g_i, g_j⟩ = Σ_{v ∈ U_i ∩ U_j} g_{i,v}·g_{j,v}} over the ids U both samples look up, and
 * {@code ‖g_i‖² = Σ_{v ∈ U_i} ‖g_{i,v}‖²}.
 *
 * <p>The products are formed on the host in double precision: each sample's rows are summed by id
 * ({@link Compact}), the training samples' rows are indexed by id, and each test sample meets only
 * the training rows of its own ids. The work is {@code Σ_v m_v n_v d} for the m_v test and n_v
 * training samples that look up id v: at most {@code m·n·T·d}, against {@code m·n·V·d} for the
 * gradients as columns, and nothing of size V is formed.
 */
final class EmbeddingRowProducts {

    private EmbeddingRowProducts() {
    }

    /**
     * @param ids  the token ids {@code [n, T]} (whole numbers held in a float tensor)
     * @param rows their rows' gradients {@code [n, T·d]}
     * @return the scores {@code [m, n]} of the test samples against the training samples, in the
     *     rows' dtype, owned by {@code scope}
     */
    static Tensor pair(Tensor testIds, Tensor testRows, Tensor trainIds, Tensor trainRows, TensorScope scope) {
        Compact test = Compact.of(testIds, testRows);
        Compact train = Compact.of(trainIds, trainRows);
        int d = test.dim;
        // the training entries grouped by id: ids ascending, entries of each id in sample order
        int entries = train.ids.length;
        long[] keys = new long[entries];
        for (int e = 0; e < entries; e++) {
            keys[e] = (long) train.ids[e] << 32 | e;
        }
        Arrays.sort(keys);
        int[] groupIds = new int[entries];
        int[] groupStart = new int[entries + 1];
        int[] order = new int[entries];
        int groups = 0;
        for (int e = 0; e < entries; e++) {
            int id = (int) (keys[e] >>> 32);
            order[e] = (int) keys[e];
            if (groups == 0 || groupIds[groups - 1] != id) {
                groupIds[groups] = id;
                groupStart[groups++] = e;
            }
        }
        groupStart[groups] = entries;
        int m = test.samples();
        int n = train.samples();
        double[] scores = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int a = test.start[i]; a < test.start[i + 1]; a++) {
                int group = Arrays.binarySearch(groupIds, 0, groups, test.ids[a]);
                if (group < 0) {
                    continue;
                }
                for (int g = groupStart[group]; g < groupStart[group + 1]; g++) {
                    int b = order[g];
                    scores[i * n + train.sample[b]] += dot(test.rows, a * d, train.rows, b * d, d);
                }
            }
        }
        return scope.fromArray(scores, testRows.dtype(), m, n);
    }

    /**
     * @param ids  the token ids {@code [n, T]}
     * @param rows their rows' gradients {@code [n, T·d]}
     * @return the squared norms {@code [n]} of the samples' gradients, in the rows' dtype
     */
    static Tensor self(Tensor ids, Tensor rows, TensorScope scope) {
        Compact c = Compact.of(ids, rows);
        double[] norms = new double[c.samples()];
        for (int i = 0; i < norms.length; i++) {
            for (int a = c.start[i]; a < c.start[i + 1]; a++) {
                norms[i] += dot(c.rows, a * c.dim, c.rows, a * c.dim, c.dim);
            }
        }
        return scope.fromArray(norms, rows.dtype(), norms.length);
    }

    private static double dot(double[] x, int xOffset, double[] y, int yOffset, int d) {
        double sum = 0;
        for (int k = 0; k < d; k++) {
            sum += x[xOffset + k] * y[yOffset + k];
        }
        return sum;
    }

    /**
     * Each sample's gradient rows summed by id: sample i's entries are {@code [start[i], start[i+1])},
     * entry e has the id {@code ids[e]} (ascending within a sample), belongs to {@code sample[e]} and
     * has the row {@code rows[e·dim, (e+1)·dim)}.
     */
    private record Compact(int dim, int[] start, int[] ids, int[] sample, double[] rows) {

        int samples() {
            return start.length - 1;
        }

        /**
         * @throws IllegalArgumentException if {@code ids} and {@code rows} do not hold the same samples
         *     and positions, or an id is not a whole number of {@code int} range
         */
        static Compact of(Tensor ids, Tensor rows) {
            long[] is = ids.shape();
            long[] rs = rows.shape();
            if (is.length != 2 || rs.length != 2 || is[0] != rs[0] || is[1] == 0 || rs[1] % is[1] != 0) {
                throw new IllegalArgumentException("ids, rows: need [n, T] and [n, T·d], got " + Arrays.toString(is)
                        + " and " + Arrays.toString(rs));
            }
            int n = Math.toIntExact(is[0]);
            int positions = Math.toIntExact(is[1]);
            int dim = Math.toIntExact(rs[1] / is[1]);
            double[] idValues = ids.toDoubleArray();
            double[] values = rows.toDoubleArray();
            int[] start = new int[n + 1];
            int[] outIds = new int[n * positions];
            int[] sample = new int[n * positions];
            double[] outRows = new double[Math.toIntExact((long) n * positions * dim)];
            long[] keys = new long[positions];
            int entries = 0;
            for (int i = 0; i < n; i++) {
                start[i] = entries;
                for (int t = 0; t < positions; t++) {
                    double id = idValues[i * positions + t];
                    if (id != (int) id) {
                        throw new IllegalArgumentException("ids: " + id + " is not a token id");
                    }
                    keys[t] = (long) id << 32 | t;
                }
                Arrays.sort(keys);
                for (int t = 0; t < positions; t++) {
                    int id = (int) (keys[t] >> 32);
                    int position = (int) keys[t];
                    if (t == 0 || outIds[entries - 1] != id) {
                        outIds[entries] = id;
                        sample[entries] = i;
                        entries++;
                    }
                    int from = (i * positions + position) * dim;
                    int to = (entries - 1) * dim;
                    for (int k = 0; k < dim; k++) {
                        outRows[to + k] += values[from + k];
                    }
                }
            }
            start[n] = entries;
            return new Compact(dim, start, Arrays.copyOf(outIds, entries), Arrays.copyOf(sample, entries),
                    Arrays.copyOf(outRows, entries * dim));
        }
    }

    /** @return the ids {@code [n, T]} as a tensor of {@code scope} (float64 holds every int id exactly) */
    static Tensor idTensor(int[] ids, int n, TensorScope scope) {
        double[] values = new double[ids.length];
        for (int r = 0; r < ids.length; r++) {
            values[r] = ids[r];
        }
        return scope.fromArray(values, DType.FLOAT64, n, ids.length / n);
    }
}
