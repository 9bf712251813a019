package org.influence4j.it;

/**
 * L2-regularized logistic regression in plain Java (double precision), independent of every
 * influence4j class: the model is σ(wᵀx + b) with the flat parameter order of a PyTorch
 * {@code Linear(d, 1)}: w_1..w_d, then b.
 */
final class ClosedFormLogistic {

    private final double[] x;
    private final double[] y;
    private final int n;
    private final int d;

    ClosedFormLogistic(double[] x, double[] y, int d) {
        this.x = x;
        this.y = y;
        this.d = d;
        this.n = y.length;
    }

    private double prob(double[] theta, double[] xs, int i) {
        double z = theta[d];
        for (int j = 0; j < d; j++) {
            z += theta[j] * xs[i * d + j];
        }
        return 1.0 / (1.0 + Math.exp(-z));
    }

    /** Per-sample gradient of ℓ = log(1+e^z) − y z: (p − y)·[x, 1]. */
    static double[] sampleGradient(double[] theta, double[] xs, double[] ys, int i, int d) {
        double z = theta[d];
        for (int j = 0; j < d; j++) {
            z += theta[j] * xs[i * d + j];
        }
        double r = 1.0 / (1.0 + Math.exp(-z)) - ys[i];
        double[] g = new double[d + 1];
        for (int j = 0; j < d; j++) {
            g[j] = r * xs[i * d + j];
        }
        g[d] = r;
        return g;
    }

    /** H = Xᵀ diag(p(1−p)) X / n + λI with X the features plus a column of ones. */
    double[][] hessian(double[] theta, double lambda) {
        int p = d + 1;
        double[][] h = new double[p][p];
        for (int i = 0; i < n; i++) {
            double pi = prob(theta, x, i);
            double w = pi * (1 - pi) / n;
            for (int a = 0; a < p; a++) {
                double xa = a < d ? x[i * d + a] : 1.0;
                for (int b = 0; b < p; b++) {
                    double xb = b < d ? x[i * d + b] : 1.0;
                    h[a][b] += w * xa * xb;
                }
            }
        }
        for (int a = 0; a < p; a++) {
            h[a][a] += lambda;
        }
        return h;
    }

    /** Solves A x = b by Gaussian elimination with partial pivoting (A is copied). */
    static double[] solve(double[][] a, double[] b) {
        int p = b.length;
        double[][] m = new double[p][];
        for (int i = 0; i < p; i++) {
            m[i] = java.util.Arrays.copyOf(a[i], p + 1);
            m[i][p] = b[i];
        }
        for (int c = 0; c < p; c++) {
            int piv = c;
            for (int r = c + 1; r < p; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) {
                    piv = r;
                }
            }
            double[] t = m[c];
            m[c] = m[piv];
            m[piv] = t;
            for (int r = c + 1; r < p; r++) {
                double f = m[r][c] / m[c][c];
                for (int k = c; k <= p; k++) {
                    m[r][k] -= f * m[c][k];
                }
            }
        }
        double[] out = new double[p];
        for (int r = p - 1; r >= 0; r--) {
            double s = m[r][p];
            for (int k = r + 1; k < p; k++) {
                s -= m[r][k] * out[k];
            }
            out[r] = s / m[r][r];
        }
        return out;
    }

    /** influence[t][i] = g_testᵀ H⁻¹ g_train_i, exactly. */
    double[][] influences(double[] theta, double lambda, double[] xTest, double[] yTest) {
        double[][] h = hessian(theta, lambda);
        int m = yTest.length;
        double[][] out = new double[m][n];
        for (int t = 0; t < m; t++) {
            double[] z = solve(h, sampleGradient(theta, xTest, yTest, t, d));
            for (int i = 0; i < n; i++) {
                double[] g = sampleGradient(theta, x, y, i, d);
                double s = 0;
                for (int k = 0; k <= d; k++) {
                    s += z[k] * g[k];
                }
                out[t][i] = s;
            }
        }
        return out;
    }
}
