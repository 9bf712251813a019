package org.influence4j.calculators.chunked;

import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;

/**
 * A stand-in influence model whose values encode their coordinates, so that the assembly of blocks
 * can be checked against a closed formula: samples carry their global index in feature 0, and
 * <pre>
 *   influences[t, i]        = 1000 t + i                (UP)
 *   influences[t, i, e]     = 1000 t + i + 0.25 e      (PERTURBATION)
 *   factors[t, k]           = 100 t + k
 *   fromFactors(z)[t, i]    = 10 z[t, 0] + i           (+ 0.25 e in PERTURBATION)
 * </pre>
 * Counts its block calls.
 */
final class CoordinateModel implements InfluenceFunctionModel {

    static final int P = 3;

    final AtomicInteger calls = new AtomicInteger();
    private final boolean threadSafe;

    CoordinateModel(boolean threadSafe) {
        this.threadSafe = threadSafe;
    }

    /** n samples with {@code x[i] = (i, i/2, ...)} and {@code y = 0}. */
    static Batch indexData(int n, int features) {
        double[] x = new double[n * features];
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < features; f++) {
                x[i * features + f] = f == 0 ? i : i * 0.5 + f;
            }
        }
        return new Batch(x, features, new double[n], 1);
    }

    static double up(long t, long i) {
        return 1000.0 * t + i;
    }

    static double perturbation(long t, long i, long e) {
        return 1000.0 * t + i + 0.25 * e;
    }

    @Override
    public InfluenceFunctionModel fit(DataSource trainingData) {
        return this;
    }

    @Override
    public boolean isFitted() {
        return true;
    }

    @Override
    public Tensor influenceFactors(Batch batch, TensorScope scope) {
        calls.incrementAndGet();
        int m = batch.size();
        double[] v = new double[m * P];
        for (int a = 0; a < m; a++) {
            for (int k = 0; k < P; k++) {
                v[a * P + k] = 100 * batch.x()[a * batch.numFeatures()] + k;
            }
        }
        return scope.fromArray(v, DType.FLOAT64, m, P);
    }

    /** Not part of the coordinate formulas: the chunked calculators never solve arbitrary vectors. */
    @Override
    public Tensor inverseHessianProducts(Tensor vectors, TensorScope scope) {
        throw new UnsupportedOperationException("CoordinateModel has no inverse curvature");
    }

    @Override
    public Tensor influences(Batch test, Batch train, InfluenceMode mode, TensorScope scope) {
        calls.incrementAndGet();
        double[] rows = new double[test.size()];
        for (int a = 0; a < rows.length; a++) {
            rows[a] = 1000 * test.x()[a * test.numFeatures()];
        }
        return block(rows, train, mode, scope);
    }

    @Override
    public Tensor influencesFromFactors(Tensor factors, Batch train, InfluenceMode mode, TensorScope scope) {
        calls.incrementAndGet();
        long[] s = factors.shape();
        double[] z = factors.toDoubleArray();
        double[] rows = new double[(int) s[0]];
        for (int a = 0; a < rows.length; a++) {
            rows[a] = 10 * z[(int) (a * s[1])];
        }
        return block(rows, train, mode, scope);
    }

    private static Tensor block(double[] rows, Batch train, InfluenceMode mode, TensorScope scope) {
        int m = rows.length;
        int n = train.size();
        int f = mode == InfluenceMode.UP ? 1 : train.numFeatures();
        double[] v = new double[m * n * f];
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < n; b++) {
                for (int e = 0; e < f; e++) {
                    v[(a * n + b) * f + e] = rows[a] + train.x()[b * train.numFeatures()] + 0.25 * e;
                }
            }
        }
        return mode == InfluenceMode.UP ? scope.fromArray(v, DType.FLOAT64, m, n)
                : scope.fromArray(v, DType.FLOAT64, m, n, f);
    }

    @Override
    public boolean isThreadSafe() {
        return threadSafe;
    }

    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "CoordinateModel";
    }
}
