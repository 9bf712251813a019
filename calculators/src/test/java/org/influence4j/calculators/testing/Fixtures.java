package org.influence4j.calculators.testing;

import java.util.SplittableRandom;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;

/**
 * Seeded synthetic data and independent plain-Java reference computations (written from the
 * formulas, not from the code under test).
 */
public final class Fixtures {

    private Fixtures() {
    }

    /** A single-Dense-layer spec. */
    public static ModelSpec dense(int inputs, int outputs, Loss loss) {
        return ModelSpec.builder(inputs).dense(outputs).loss(loss).dtype(DType.FLOAT64).build();
    }

    /** Gaussian features {@code [n, d]}. */
    public static double[] features(int n, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        return x;
    }

    /** Binary labels from a noisy logistic model with weights 1, -1, 0.5, ... and bias 0.3. */
    public static Batch logisticData(int n, int d, long seed) {
        double[] x = features(n, d, seed);
        SplittableRandom r = new SplittableRandom(seed + 1);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double z = 0.3;
            for (int j = 0; j < d; j++) {
                z += x[i * d + j] * (j % 2 == 0 ? 1.0 : -1.0) / (1 + j / 2);
            }
            y[i] = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
        }
        return new Batch(x, d, y, 1);
    }

    /** Targets {@code [n, outputs]} from a linear map plus noise. */
    public static Batch regressionData(int n, int d, int outputs, long seed) {
        double[] x = features(n, d, seed);
        SplittableRandom r = new SplittableRandom(seed + 7);
        double[] y = new double[n * outputs];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < outputs; k++) {
                double t = 0.1 * k;
                for (int j = 0; j < d; j++) {
                    t += x[i * d + j] * ((j + k) % 3 - 1);
                }
                y[i * outputs + k] = t + 0.1 * r.nextGaussian();
            }
        }
        return new Batch(x, d, y, outputs);
    }

    /** Class labels in [0, classes). */
    public static Batch softmaxData(int n, int d, int classes, long seed) {
        double[] x = features(n, d, seed);
        SplittableRandom r = new SplittableRandom(seed + 3);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                double s = x[i * d + (k % d)] + 0.5 * r.nextGaussian();
                if (s > bestScore) {
                    bestScore = s;
                    best = k;
                }
            }
            y[i] = best;
        }
        return new Batch(x, d, y, 1);
    }

    /** Small random parameters. */
    public static double[] parameters(int p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] t = new double[p];
        for (int i = 0; i < p; i++) {
            t[i] = 0.3 * r.nextGaussian();
        }
        return t;
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** Logistic regression logit of sample i for θ = (w[d], b). */
    public static double logit(Batch data, double[] theta, int i) {
        int d = data.numFeatures();
        double z = theta[d];
        for (int j = 0; j < d; j++) {
            z += theta[j] * data.x()[i * d + j];
        }
        return z;
    }

    /** Per-sample logistic gradients {@code (σ(z_i) − y_i)·[x_i, 1]}, {@code [n][d+1]}. */
    public static double[][] logisticGradients(Batch data, double[] theta) {
        int n = data.size();
        int d = data.numFeatures();
        double[][] g = new double[n][d + 1];
        for (int i = 0; i < n; i++) {
            double r = sigmoid(logit(data, theta, i)) - data.y()[i];
            for (int j = 0; j < d; j++) {
                g[i][j] = r * data.x()[i * d + j];
            }
            g[i][d] = r;
        }
        return g;
    }

    /** {@code Xᵀ diag(p(1−p)) X / n + λI} with X augmented by a column of ones. */
    public static double[][] logisticHessian(Batch data, double[] theta, double lambda) {
        int n = data.size();
        int d = data.numFeatures();
        double[][] h = new double[d + 1][d + 1];
        for (int i = 0; i < n; i++) {
            double s = sigmoid(logit(data, theta, i));
            double w = s * (1 - s) / n;
            for (int a = 0; a <= d; a++) {
                double xa = a < d ? data.x()[i * d + a] : 1;
                for (int b = 0; b <= d; b++) {
                    double xb = b < d ? data.x()[i * d + b] : 1;
                    h[a][b] += w * xa * xb;
                }
            }
        }
        for (int a = 0; a <= d; a++) {
            h[a][a] += lambda;
        }
        return h;
    }

    /** Solves {@code A x = b} by Gaussian elimination with partial pivoting. */
    public static double[] gaussSolve(double[][] a, double[] b) {
        int n = b.length;
        double[][] m = new double[n][n + 1];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n] = b[i];
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            double[] t = m[col];
            m[col] = m[pivot];
            m[pivot] = t;
            for (int r = col + 1; r < n; r++) {
                double f = m[r][col] / m[col][col];
                for (int c = col; c <= n; c++) {
                    m[r][c] -= f * m[col][c];
                }
            }
        }
        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = m[r][n];
            for (int c = r + 1; c < n; c++) {
                s -= m[r][c] * x[c];
            }
            x[r] = s / m[r][r];
        }
        return x;
    }

    /** {@code a · b}. */
    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** {@code A v}. */
    public static double[] times(double[][] a, double[] v) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = dot(a[i], v);
        }
        return out;
    }

    /** Row-major flattening. */
    public static double[] flatten(double[][] rows) {
        int w = rows[0].length;
        double[] out = new double[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }

    /** Largest absolute difference. */
    public static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /**
     * Asserts that {@code actual} equals {@code expected} to {@code relTol} times the largest
     * magnitude in {@code expected} (elementwise, the same length).
     */
    public static void assertCloseToScale(double[] expected, double[] actual, double relTol) {
        if (expected.length != actual.length) {
            throw new AssertionError("lengths differ: " + expected.length + " vs " + actual.length);
        }
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double diff = maxAbsDiff(expected, actual);
        if (!(diff <= relTol * scale)) {
            throw new AssertionError("max diff " + diff + " at scale " + scale + " (relative tolerance " + relTol + ")");
        }
    }

    /**
     * Eigendecomposition of a symmetric matrix by the cyclic Jacobi method (plain Java, independent
     * of the code under test).
     *
     * @return {@code [values, v_1, ..., v_n]}: row 0 the eigenvalues in decreasing order, row i+1 the
     *     unit eigenvector of {@code values[i]}
     */
    public static double[][] jacobiEigen(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            m[i] = a[i].clone();
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    off += m[i][j] * m[i][j];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(m[p][q]) < 1e-300) {
                        continue;
                    }
                    double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double mkp = m[k][p];
                        double mkq = m[k][q];
                        m[k][p] = c * mkp - s * mkq;
                        m[k][q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) {
                        double mpk = m[p][k];
                        double mqk = m[q][k];
                        m[p][k] = c * mpk - s * mqk;
                        m[q][k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(m[y][y], m[x][x]));
        double[][] out = new double[n + 1][n];
        for (int i = 0; i < n; i++) {
            out[0][i] = m[order[i]][order[i]];
            for (int k = 0; k < n; k++) {
                out[i + 1][k] = v[k][order[i]];
            }
        }
        return out;
    }
}
