package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Random;
import org.influence4j.api.model.GraphNode;
import org.influence4j.backend.djl.DjlKernels;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.graph.Kernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The PyTorch kernels that pool windows go through: the first-maximum mask and the maxima along a
 * short last axis, taken from its slices, keep argmax's tie rule (the first maximum wins) and skip
 * −∞ (padded positions), as {@code torch.argmax} and {@code max} do; a long axis takes the reduction.
 * The native convolution adjoints and the tile sums equal their definitions written as loops.
 */
class PtKernelsTest {

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT32", "FLOAT64"})
    void firstMaximumMasksOfWindowsKeepArgmaxsTieRule(DataType type) {
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, type, PtArrays::owned, PtBackend.INDEXING);
            NDArray a = k.constant(TestSupport.WINDOWS, 2, 3, 4);
            assertArrayEquals(TestSupport.WINDOW_FIRST_MAXIMA, k.toDoubles(k.argmaxMask(a)));
            assertArrayEquals(TestSupport.WINDOW_MAXIMA, k.toDoubles(k.maxLast(a)));
            assertArrayEquals(new long[] {2, 3, 1}, k.shape(k.maxLast(a)));
            double[] wide = new double[2 * 20];
            wide[7] = 3;
            wide[9] = 3;
            wide[20 + 19] = 1;
            double[] wideMask = new double[2 * 20];
            wideMask[7] = 1;
            wideMask[20 + 19] = 1;
            NDArray w = k.constant(wide, 2, 20);
            assertArrayEquals(wideMask, k.toDoubles(k.argmaxMask(w)), "a long axis: the reduction");
            assertArrayEquals(new double[] {3, 1}, k.toDoubles(k.maxLast(w)));
        }
    }

    /** The masks go from bool through uint8 ({@link DjlKernels#maskValues}): 0 and 1 of the kernels' type. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT32", "FLOAT64"})
    void greaterMasksAreZerosAndOnesOfTheKernelsType(DataType type) {
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, type, PtArrays::owned, PtBackend.INDEXING);
            NDArray mask = k.greaterMask(k.constant(new double[] {-1, 0, 0.5, 2, Double.NaN}, 5), 0);
            assertEquals(type, mask.getDataType());
            assertArrayEquals(new double[] {0, 0, 1, 1, 0}, k.toDoubles(mask));
        }
    }

    /**
     * A tiling 2x2 max pool over a 2x4 (and 4x4) input: each window's maximum, and its first maximum
     * in row-major order marked in the input's own layout, ties included.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT32", "FLOAT64"})
    void tiledMaxPoolsMarkTheFirstMaximumOfEachWindowInPlace(DataType type) {
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, type, PtArrays::owned, PtBackend.INDEXING);
            // windows (2x2): [[1, 3], [3, 0]] and [[5, 5], [5, 5]]; second image [[0, 0], [0, 2]], [[-1, -4], [-1, -2]]
            NDArray x = k.constant(new double[] {
                1, 3, 5, 5,
                3, 0, 5, 5,
                0, 0, -1, -4,
                0, 2, -1, -2}, 2, 1, 2, 4);
            Kernels.MaximaAndMask<NDArray> pooled = k.tiledMaxPool(x, GraphNode.Pair.of(2)).orElseThrow();
            assertArrayEquals(new double[] {3, 5, 2, -1}, k.toDoubles(pooled.maxima()));
            assertArrayEquals(new long[] {2, 1, 1, 2}, k.shape(pooled.maxima()));
            assertArrayEquals(new double[] {
                0, 1, 1, 0,
                0, 0, 0, 0,
                0, 0, 1, 0,
                0, 1, 0, 0}, k.toDoubles(pooled.mask()));
            double[] big = new double[16];
            big[5] = 1;
            big[10] = 1;
            big[11] = 1;
            double[] bigMask = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0};
            Kernels.MaximaAndMask<NDArray> four = k.tiledMaxPool(k.constant(big, 1, 1, 4, 4), GraphNode.Pair.of(2))
                    .orElseThrow();
            assertArrayEquals(new double[] {1, 0, 0, 1}, k.toDoubles(four.maxima()));
            assertArrayEquals(bigMask, k.toDoubles(four.mask()));
        }
    }

    /**
     * A stride-1 convolution with a non-square kernel and padding: the native weight gradient equals
     * {@code Σ_{i,y,x} dy[i,o,y,x] · x_pad[i,c,y+u,x+v]}, and the native input gradient is its adjoint,
     * {@code ⟨dy, conv(x, W)⟩ = ⟨x, conv2dInputGradient(dy, W)⟩} (float64, 1e-12).
     */
    @Test
    void nativeConvolutionGradientsEqualTheirDefinitions() {
        int n = 2, c = 2, o = 3, h = 5, w = 4, kh = 3, kw = 2, ph = 1, pw = 1;
        int oh = h + 2 * ph - kh + 1, ow = w + 2 * pw - kw + 1;
        GraphNode.Conv2d conv = new GraphNode.Conv2d("conv", List.of("x"), c, o, new GraphNode.Pair(kh, kw),
                GraphNode.Pair.of(1), new GraphNode.Pair(ph, pw), GraphNode.Pair.of(1), false);
        Random random = new Random(7);
        double[] x = random.doubles(n * c * h * w, -1, 1).toArray();
        double[] dy = random.doubles(n * o * oh * ow, -1, 1).toArray();
        double[] weight = random.doubles(o * c * kh * kw, -1, 1).toArray();
        double[] expected = new double[o * c * kh * kw];
        for (int i = 0; i < n; i++) {
            for (int oc = 0; oc < o; oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double g = dy[((i * o + oc) * oh + y) * ow + xx];
                        for (int ic = 0; ic < c; ic++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int row = y + u - ph, col = xx + v - pw;
                                    if (row >= 0 && row < h && col >= 0 && col < w) {
                                        expected[((oc * c + ic) * kh + u) * kw + v] +=
                                                g * x[((i * c + ic) * h + row) * w + col];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, DataType.FLOAT64, PtArrays::owned, PtBackend.INDEXING);
            NDArray xs = k.constant(x, n, c, h, w);
            NDArray dys = k.constant(dy, n, o, oh, ow);
            NDArray ws = k.constant(weight, o, c, kh, kw);
            NDArray gradient = k.conv2dWeightGradient(xs, dys, conv);
            assertArrayEquals(new long[] {o, c, kh, kw}, k.shape(gradient));
            assertArrayEquals(expected, k.toDoubles(gradient), 1e-12);
            double forward = dot(dy, k.toDoubles(k.conv2dValue(xs, ws, null, conv).orElseThrow()));
            double adjoint = dot(x, k.toDoubles(k.conv2dInputGradient(dys, ws, conv)));
            assertEquals(forward, adjoint, 1e-12 * Math.abs(forward));
            assertEquals(forward, dot(weight, expected), 1e-12 * Math.abs(forward), "⟨dy, conv(x, W)⟩ = ⟨W, ∇_W⟩");
        }
    }

    /** The separable tile sums equal the sums of each tile written as a loop (a 2x3 kernel; exact). */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT32", "FLOAT64"})
    void tileSumsAddEachTile(DataType type) {
        int n = 2, c = 3, kh = 2, kw = 3, oh = 2, ow = 3, h = oh * kh, w = ow * kw;
        double[] x = new double[n * c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 37 % 101) - 50;
        }
        double[] expected = new double[n * c * oh * ow];
        for (int p = 0; p < n * c; p++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    expected[(p * oh + y / kh) * ow + xx / kw] += x[(p * h + y) * w + xx];
                }
            }
        }
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, type, PtArrays::owned, PtBackend.INDEXING);
            NDArray sums = k.tileSums(k.constant(x, n, c, h, w), new GraphNode.Pair(kh, kw));
            assertArrayEquals(new long[] {n, c, oh, ow}, k.shape(sums));
            assertArrayEquals(expected, k.toDoubles(sums));
        }
    }

    /**
     * The scatter-add of skewed indices (one target with most of the sources, as the frequent tokens of
     * an Embedding's gradient; a target with 2, 3 or no sources) equals its definition, in levels
     * ({@code ScatterTable.Split}) whose tables stay near the index's length; a uniform index (each
     * target twice) takes one level.
     */
    @Test
    void skewedScattersAddEverySourceOnce() {
        Random random = new Random(5);
        int len = 20_000;
        int m = 60;
        int c = 3;
        int[] skewed = new int[len];
        for (int j = 0; j < len; j++) {
            skewed[j] = random.nextInt(10) == 0 ? random.nextInt(m - 1) : 3;
        }
        int[] uniform = new int[2 * m];
        for (int j = 0; j < uniform.length; j++) {
            uniform[j] = j % m;
        }
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(manager, DataType.FLOAT64, PtArrays::owned, PtBackend.INDEXING);
            for (int[] index : List.of(skewed, uniform, new int[] {7, 7, 7, 1, 1, 0})) {
                double[] g = new double[index.length * c];
                for (int i = 0; i < g.length; i++) {
                    g[i] = random.nextGaussian();
                }
                double[] expected = new double[m * c];
                for (int j = 0; j < index.length; j++) {
                    for (int q = 0; q < c; q++) {
                        expected[index[j] * c + q] += g[j * c + q];
                    }
                }
                double[] got = k.toDoubles(k.scatterRows(k.constant(g, index.length, c), index, m));
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got[i], 1e-12 * (1 + Math.abs(expected[i])), "row " + i / c);
                }
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
