package org.influence4j.backend.testkit;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Test helpers shared by every backend's tests: random data, the model specs of the shared suites,
 * and a plain-Java double-precision reference of a {@link ModelSpec}'s outputs and losses that
 * shares no code with any backend (used for finite-difference gradient checks). Flat parameter
 * vectors follow the {@link ModelSpec} order (per Dense layer W {@code [out,in]} row-major, then b).
 */
public final class TestSupport {

    /**
     * Windows {@code [2, 3, 4]} for the first-maximum kernels (pool windows): ties, −∞ (padding)
     * and a single real value; {@link #WINDOW_FIRST_MAXIMA} marks each row's first maximum,
     * {@link #WINDOW_MAXIMA} holds the maxima.
     */
    public static final double[] WINDOWS = {
        0, 1, 1, 0,
        2, 2, 2, 2,
        0, 0, 0, 0,
        Double.NEGATIVE_INFINITY, -3, Double.NEGATIVE_INFINITY, -3,
        -1, -2, 5, 5,
        Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, 7};
    /** The one-hot first maxima of {@link #WINDOWS}. */
    public static final double[] WINDOW_FIRST_MAXIMA = {
        0, 1, 0, 0,
        1, 0, 0, 0,
        1, 0, 0, 0,
        0, 1, 0, 0,
        0, 0, 1, 0,
        0, 0, 0, 1};
    /** The maxima of the rows of {@link #WINDOWS}. */
    public static final double[] WINDOW_MAXIMA = {1, 2, 0, -3, 5, 7};

    private TestSupport() {
    }

    /** x ~ N(0,1) and labels fitting the loss. */
    public static Batch randomBatch(ModelSpec spec, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int d = spec.inputDim();
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = gaussian(r);
        }
        int k = spec.outputDim();
        return switch (spec.loss()) {
            case MSE -> {
                double[] y = new double[n * k];
                for (int i = 0; i < y.length; i++) {
                    y[i] = gaussian(r);
                }
                yield new Batch(x, d, y, k);
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                double[] y = new double[n];
                for (int i = 0; i < n; i++) {
                    y[i] = r.nextInt(k);
                }
                yield new Batch(x, d, y, 1);
            }
            case BINARY_LOGISTIC -> {
                double[] y = new double[n];
                for (int i = 0; i < n; i++) {
                    y[i] = i % 5 == 4 ? 0.3 : r.nextInt(2);
                }
                yield new Batch(x, d, y, 1);
            }
        };
    }

    /** Parameters drawn from the spec's (PyTorch-style) default init, scaled by {@code scale} to get more curvature. */
    public static double[] parameters(ModelSpec spec, long seed, double scale) {
        double[] theta = spec.initialParameters(seed);
        for (int i = 0; i < theta.length; i++) {
            theta[i] *= scale;
        }
        return theta;
    }

    public static double gaussian(SplittableRandom r) {
        double u = r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /** @return {@code length} standard normal values from {@link SplittableRandom#nextGaussian()} seeded with {@code seed} */
    public static double[] gaussians(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            out[i] = random.nextGaussian();
        }
        return out;
    }

    public static double[] randomUnitVector(int p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[p];
        for (int i = 0; i < p; i++) {
            v[i] = gaussian(r);
        }
        double nrm = norm(v);
        for (int i = 0; i < p; i++) {
            v[i] /= nrm;
        }
        return v;
    }

    public static ModelSpec mlp(int in, int hidden, Activation act, int out, Loss loss, DType dtype) {
        return ModelSpec.builder(in).dense(hidden).activation(act).dense(out).loss(loss).dtype(dtype).build();
    }

    /** Two hidden layers (tanh, softplus) on 5 inputs; 3 outputs, or 1 for the binary logistic loss. */
    public static ModelSpec twoHiddenLayers(Loss loss, DType dtype) {
        int out = loss == Loss.BINARY_LOGISTIC ? 1 : 3;
        return ModelSpec.builder(5).dense(7).activation(Activation.TANH).dense(6).activation(Activation.SOFTPLUS)
                .dense(out).loss(loss).dtype(dtype).build();
    }

    /** The (activation, loss) pairs of the per-activation checks: every activation and every loss occurs. */
    public static Stream<Arguments> activationsAndLosses() {
        return Stream.of(
                Arguments.of(Activation.RELU, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.TANH, Loss.MSE),
                Arguments.of(Activation.SIGMOID, Loss.BINARY_LOGISTIC),
                Arguments.of(Activation.IDENTITY, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.SOFTPLUS, Loss.MSE),
                Arguments.of(Activation.TANH, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.RELU, Loss.BINARY_LOGISTIC));
    }

    /** One hidden layer of 6 units with {@code act} on 4 inputs, float64. */
    public static ModelSpec oneHidden(Activation act, Loss loss) {
        return mlp(4, 6, act, loss == Loss.BINARY_LOGISTIC ? 1 : 3, loss, DType.FLOAT64);
    }

    // ---- plain-Java reference ------------------------------------------------------------------

    /** Model outputs for one sample, computed in double precision straight from the spec. */
    public static double[] referenceOutput(ModelSpec spec, double[] theta, double[] x) {
        double[] a = x.clone();
        int offset = 0;
        for (Layer layer : spec.layers()) {
            if (layer instanceof Layer.Dense d) {
                double[] z = new double[d.outFeatures()];
                int bias = offset + d.outFeatures() * d.inFeatures();
                for (int o = 0; o < d.outFeatures(); o++) {
                    double s = theta[bias + o];
                    for (int i = 0; i < d.inFeatures(); i++) {
                        s += theta[offset + o * d.inFeatures() + i] * a[i];
                    }
                    z[o] = s;
                }
                offset = bias + d.outFeatures();
                a = z;
            } else {
                Activation act = ((Layer.Act) layer).activation();
                for (int i = 0; i < a.length; i++) {
                    a[i] = activation(act, a[i]);
                }
            }
        }
        return a;
    }

    public static double activation(Activation act, double z) {
        return switch (act) {
            case RELU -> Math.max(0, z);
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case IDENTITY -> z;
            case SOFTPLUS -> z > 20 ? z : Math.log1p(Math.exp(z));
            case GELU -> throw new IllegalStateException("gelu is a layer-graph (format 2) activation");
        };
    }

    /** Per-sample loss of the reference. */
    public static double referenceLoss(ModelSpec spec, double[] f, double[] y) {
        return switch (spec.loss()) {
            case MSE -> {
                double s = 0;
                for (int k = 0; k < f.length; k++) {
                    s += (f[k] - y[k]) * (f[k] - y[k]);
                }
                yield s / f.length;
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : f) {
                    max = Math.max(max, v);
                }
                double s = 0;
                for (double v : f) {
                    s += Math.exp(v - max);
                }
                yield max + Math.log(s) - f[(int) y[0]];
            }
            case BINARY_LOGISTIC -> Math.max(f[0], 0) - y[0] * f[0] + Math.log1p(Math.exp(-Math.abs(f[0])));
        };
    }

    public static double[] referencePerSampleLosses(ModelSpec spec, double[] theta, org.influence4j.api.data.Batch b) {
        int n = b.size();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double[] x = java.util.Arrays.copyOfRange(b.x(), i * b.numFeatures(), (i + 1) * b.numFeatures());
            double[] y = java.util.Arrays.copyOfRange(b.y(), i * b.labelWidth(), (i + 1) * b.labelWidth());
            out[i] = referenceLoss(spec, referenceOutput(spec, theta, x), y);
        }
        return out;
    }

    public static double referenceMeanLoss(ModelSpec spec, double[] theta, Batch b) {
        double s = 0;
        for (double l : referencePerSampleLosses(spec, theta, b)) {
            s += l;
        }
        return s / b.size();
    }

    /** @return the softmax of each row of the row-major logits {@code [n, classes]}, in double precision */
    public static double[] softmaxRows(double[] logits, int classes) {
        double[] p = new double[logits.length];
        for (int i = 0; i < logits.length / classes; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, logits[i * classes + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                p[i * classes + j] = Math.exp(logits[i * classes + j] - max);
                sum += p[i * classes + j];
            }
            for (int j = 0; j < classes; j++) {
                p[i * classes + j] /= sum;
            }
        }
        return p;
    }

    /** Central finite-difference gradient of the reference mean loss (step h). */
    public static double[] referenceGradientFd(ModelSpec spec, double[] theta, Batch b, double h) {
        double[] g = new double[theta.length];
        double[] t = theta.clone();
        for (int k = 0; k < theta.length; k++) {
            t[k] = theta[k] + h;
            double up = referenceMeanLoss(spec, t, b);
            t[k] = theta[k] - h;
            double down = referenceMeanLoss(spec, t, b);
            t[k] = theta[k];
            g[k] = (up - down) / (2 * h);
        }
        return g;
    }

    // ---- numerics ------------------------------------------------------------------------------

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** @return the number of elements of an array of {@code shape} */
    public static long size(long[] shape) {
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        return size;
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * Asserts that {@code actual} equals {@code expected} elementwise within {@code tol} times the
     * largest magnitude in {@code expected} (a bound for values that differ by rounding only).
     *
     * @param what names the values in the failure message
     */
    public static void assertCloseToScale(double[] expected, double[] actual, double tol, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        double scale = 0;
        double worst = 0;
        for (int k = 0; k < expected.length; k++) {
            scale = Math.max(scale, Math.abs(expected[k]));
            worst = Math.max(worst, Math.abs(expected[k] - actual[k]));
        }
        if (!(worst <= tol * scale)) {
            throw new AssertionError(what + ": max diff " + worst + " at scale " + scale + " (tolerance " + tol + ")");
        }
    }

    /** ‖a − ref‖ / ‖ref‖ */
    public static double relErr(double[] a, double[] ref) {
        if (a.length != ref.length) {
            throw new AssertionError("length " + a.length + " vs " + ref.length);
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - ref[i]) * (a[i] - ref[i]);
        }
        return Math.sqrt(s) / norm(ref);
    }

    public static double[] axpy(double alpha, double[] x, double[] y) {
        double[] out = y.clone();
        for (int i = 0; i < x.length; i++) {
            out[i] += alpha * x[i];
        }
        return out;
    }

    public static double[] row(double[] matrix, int cols, int r) {
        return java.util.Arrays.copyOfRange(matrix, r * cols, (r + 1) * cols);
    }
}
