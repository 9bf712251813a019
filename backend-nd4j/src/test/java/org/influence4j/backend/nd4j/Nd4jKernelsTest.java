package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.graph.Kernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The contract of {@link Kernels} on ND4J, kernel by kernel, against plain-Java references: shapes,
 * values, the model's data type, arguments left unchanged, results that are new arrays freed by
 * the arena, and the accuracy of tanh and softplus where ND4J's own functions lose it.
 */
class Nd4jKernelsTest {

    @BeforeAll
    static void loadNd4j() {
        Nd4jBackendProvider.backend();
    }

    private static double[] random(int size, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] out = new double[size];
        for (int i = 0; i < size; i++) {
            out[i] = r.nextDouble(-2, 2);
        }
        return out;
    }

    private static double tolerance(DataType type) {
        return type == DataType.DOUBLE ? 1e-15 : 1e-6;
    }

    private static void assertValues(double[] expected, double[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tolerance * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void sumToSumsTheAxesOfSizeOneAndKeepsTheRank(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            double[] v = random(2 * 3 * 4, 1);
            INDArray a = k.constant(v, 2, 3, 4);
            INDArray s = k.sumTo(a, 2, 1, 4);
            assertArrayEquals(new long[] {2, 1, 4}, k.shape(s));
            assertEquals(type, s.dataType());
            double[] expected = new double[8];
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int l = 0; l < 4; l++) {
                        expected[i * 4 + l] += v[(i * 3 + j) * 4 + l];
                    }
                }
            }
            assertValues(expected, k.toDoubles(s), 10 * tolerance(type));
            INDArray all = k.sumTo(a, 1, 1, 1);
            assertArrayEquals(new long[] {1, 1, 1}, k.shape(all));
            double total = 0;
            for (double x : v) {
                total += x;
            }
            assertEquals(total, k.toDoubles(all)[0], 100 * tolerance(type));
            INDArray same = k.sumTo(a, 2, 3, 4);
            assertNotSame(a, same);
            assertValues(k.toDoubles(a), k.toDoubles(same), 0);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void expandBroadcastsAxesOfSizeOne(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            double[] v = random(3 * 2, 2);
            INDArray a = k.constant(v, 1, 3, 1, 2, 1);
            INDArray e = k.expand(a, 2, 3, 4, 2, 5);
            double[] got = k.toDoubles(e);
            int at = 0;
            for (int i0 = 0; i0 < 2; i0++) {
                for (int i1 = 0; i1 < 3; i1++) {
                    for (int i2 = 0; i2 < 4; i2++) {
                        for (int i3 = 0; i3 < 2; i3++) {
                            for (int i4 = 0; i4 < 5; i4++) {
                                assertEquals(k.toDoubles(a)[i1 * 2 + i3], got[at++], 0.0);
                            }
                        }
                    }
                }
            }
            INDArray same = k.expand(a, 1, 3, 1, 2, 1);
            assertNotSame(a, same);
            assertThrows(IllegalArgumentException.class, () -> k.expand(a, 1, 6, 1, 2, 1));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void argmaxMaskMarksTheFirstMaximum(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            INDArray a = k.constant(TestSupport.WINDOWS, 2, 3, 4);
            INDArray mask = k.argmaxMask(a);
            assertEquals(type, mask.dataType());
            assertArrayEquals(TestSupport.WINDOW_FIRST_MAXIMA, k.toDoubles(mask));
            assertArrayEquals(TestSupport.WINDOW_MAXIMA, k.toDoubles(k.maxLast(a)));
            assertArrayEquals(new long[] {2, 3, 1}, k.shape(k.maxLast(a)));
            assertArrayEquals(new double[] {1, 1}, k.toDoubles(k.argmaxMask(k.constant(new double[] {3, -3}, 2, 1))));
        }
    }

    /**
     * Ties everywhere (windows of zeros after a ReLU) in narrow rows, counted by a product with a
     * triangle of ones, and ties in rows wider than that bound, counted by {@code cumsum}: the first
     * maximum of each row wins either way.
     */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void argmaxMaskTakesTheFirstOfTiedMaximaInNarrowAndWideRows(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            for (int width : new int[] {4, 64, 65, 70}) {
                int rows = 500;
                double[] values = new double[rows * width];
                double[] expected = new double[rows * width];
                for (int r = 0; r < rows; r++) {
                    int first = r % width;
                    if (r % 3 != 0) {
                        // the maximum 2 at first and at every later multiple of 5 columns away
                        for (int j = first; j < width; j += 5) {
                            values[r * width + j] = 2;
                        }
                        for (int j = 0; j < first; j++) {
                            values[r * width + j] = 1;
                        }
                    } else {
                        first = 0; // a row of zeros
                    }
                    expected[r * width + first] = 1;
                }
                assertArrayEquals(expected, k.toDoubles(k.argmaxMask(k.constant(values, rows, 1, width))),
                        "width " + width);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void rowsAreGatheredSlicedWithZeroPaddingAndScatteredBack(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            double[] v = random(4 * 3, 3);
            INDArray a = k.constant(v, 4, 3);
            int[] index = {2, 0, 2, 3, 2};
            double[] rows = k.toDoubles(k.gatherRows(a, index));
            for (int j = 0; j < index.length; j++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(k.toDoubles(a)[index[j] * 3 + c], rows[j * 3 + c], 0.0);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> k.gatherRows(a, new int[] {4}));
            assertThrows(IllegalArgumentException.class, () -> k.gatherRows(a, new int[] {-1}));

            double[] av = k.toDoubles(a);
            for (long[] range : new long[][] {{-2, 3}, {1, 6}, {-1, 5}, {5, 7}, {-3, -1}, {0, 4}, {2, 2}}) {
                INDArray s = k.slicePadRows(a, range[0], range[1]);
                assertArrayEquals(new long[] {range[1] - range[0], 3}, k.shape(s));
                double[] got = k.toDoubles(s);
                for (long r = range[0]; r < range[1]; r++) {
                    for (int c = 0; c < 3; c++) {
                        double expected = r >= 0 && r < 4 ? av[(int) r * 3 + c] : 0.0;
                        assertEquals(expected, got[(int) (r - range[0]) * 3 + c], 0.0, "row " + r);
                    }
                }
            }
            assertNotSame(a, k.slicePadRows(a, 0, 4));

            double[] gv = random(index.length * 3, 4);
            INDArray g = k.constant(gv, index.length, 3);
            double[] expected = new double[6 * 3];
            for (int j = 0; j < index.length; j++) {
                for (int c = 0; c < 3; c++) {
                    expected[index[j] * 3 + c] += gv[j * 3 + c];
                }
            }
            Nd4jKernels byDefault = new Nd4jKernels(ar, type, false);
            assertValues(expected, k.toDoubles(k.scatterRows(g, index, 6)), tolerance(type));
            assertValues(expected, byDefault.toDoubles(byDefault.scatterRows(g, index, 6)), tolerance(type));
            assertThrows(IllegalArgumentException.class, () -> k.scatterRows(g, new int[] {0, 1, 2, 3, 6}, 6));
        }
    }

    /** Many repeated rows: the locked native scatter-add is the exact sequential sum (an unlocked one races). */
    @Test
    void nativeScatterAddsRepeatedRowsExactly() {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, DataType.DOUBLE, true);
            SplittableRandom r = new SplittableRandom(5);
            int len = 20_000;
            int m = 50;
            int c = 7;
            int[] index = new int[len];
            for (int j = 0; j < len; j++) {
                index[j] = r.nextInt(10) == 0 ? r.nextInt(m) : 3;
            }
            double[] gv = random(len * c, 6);
            double[] expected = new double[m * c];
            for (int j = 0; j < len; j++) {
                for (int q = 0; q < c; q++) {
                    expected[index[j] * c + q] += gv[j * c + q];
                }
            }
            assertArrayEquals(expected, k.toDoubles(k.scatterRows(k.constant(gv, len, c), index, m)));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void matmulIsPlainOrBatched(DataType type) {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            int b = 3;
            int m = 2;
            int n = 4;
            int q = 5;
            double[] x = random(b * m * n, 7);
            double[] y = random(b * n * q, 8);
            double[] got = k.toDoubles(k.matmul(k.constant(x, b, m, n), k.constant(y, b, n, q)));
            double[] expected = new double[b * m * q];
            for (int s = 0; s < b; s++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < q; j++) {
                        for (int l = 0; l < n; l++) {
                            expected[(s * m + i) * q + j] += x[(s * m + i) * n + l] * y[(s * n + l) * q + j];
                        }
                    }
                }
            }
            assertValues(expected, got, 10 * tolerance(type));
            double[] plain = k.toDoubles(k.matmul(k.constant(x, b * m, n), k.constant(y, n, b * q)));
            assertEquals(b * m * b * q, plain.length);
            assertThrows(IllegalArgumentException.class,
                    () -> k.matmul(k.constant(x, b, m, n), k.constant(y, b, q, n)));
        }
    }

    /** ND4J's tanh and log1p lose relative accuracy near 0 (1e-11 and worse); the kernels stay within a few ulps. */
    @Test
    void tanhAndSoftplusAreAccurateForEveryInput() {
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, DataType.DOUBLE, true);
            List<Double> xs = new ArrayList<>();
            for (double x : new double[] {0, 1e-300, 1e-20, 1e-12, 2e-6, 1e-3, 0.3, 1, 5, 19, 20, 21, 36, 40, 700, 800}) {
                xs.add(x);
                xs.add(-x);
            }
            SplittableRandom r = new SplittableRandom(9);
            for (int i = 0; i < 2000; i++) {
                xs.add(r.nextDouble(-30, 30) * Math.pow(10, -r.nextInt(12)));
            }
            xs.addAll(List.of(0.5, -0.5, Math.nextDown(0.5), Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                    Double.NaN));
            double[] x = xs.stream().mapToDouble(Double::doubleValue).toArray();
            INDArray a = k.constant(x, x.length);
            double[] tanh = k.toDoubles(k.tanh(a));
            double[] softplus = k.toDoubles(k.softplus(a));
            for (int i = 0; i < x.length; i++) {
                if (Double.isNaN(x[i])) {
                    assertTrue(Double.isNaN(tanh[i]) && Double.isNaN(softplus[i]), "NaN stays NaN");
                    continue;
                }
                double t = Math.tanh(x[i]);
                assertEquals(t, tanh[i], 1e-15 * Math.abs(t), "tanh(" + x[i] + ")");
                double s = Math.max(x[i], 0) + Math.log1p(Math.exp(-Math.abs(x[i])));
                assertEquals(s, softplus[i], 1e-15 * Math.abs(s), "softplus(" + x[i] + ")");
            }
        }
    }

    /** Every kernel leaves its arguments unchanged, returns a new array in the model dtype, and the arena frees it. */
    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void kernelsKeepTheirArgumentsAndTheArenaFreesTheirResults(DataType type) {
        List<INDArray> results = new ArrayList<>();
        try (Nd4jArena ar = new Nd4jArena()) {
            Nd4jKernels k = new Nd4jKernels(ar, type, true);
            double[] av = random(12, 10);
            double[] bv = random(12, 11);
            for (int i = 0; i < bv.length; i++) {
                bv[i] = Math.abs(bv[i]) + 0.5;
            }
            INDArray a = k.constant(av, 3, 4);
            INDArray b = k.constant(bv, 3, 4);
            double[] aBefore = k.toDoubles(a);
            double[] bBefore = k.toDoubles(b);
            List<Function<INDArray, INDArray>> unary = List.of(
                    x -> k.add(x, b), x -> k.sub(x, b), x -> k.mul(x, b), x -> k.div(x, b), x -> k.div(b, x),
                    x -> k.scale(x, 3), x -> k.addScalar(x, 1), x -> k.matmul(x, k.permute(b, 1, 0)),
                    x -> k.permute(x, 1, 0), x -> k.reshape(x, 4, 3), x -> k.expand(k.sumTo(x, 3, 1), 3, 4),
                    x -> k.sumTo(x, 1, 4), k::exp, x -> k.log(b), k::tanh, k::sigmoid, k::erf, x -> k.sqrt(b),
                    k::softplus, x -> k.greaterMask(x, 0.1), k::argmaxMask, k::maxLast,
                    x -> k.gatherRows(x, new int[] {2, 2, 0}), x -> k.slicePadRows(x, -1, 2),
                    x -> k.concat(List.of(x, b), 0), x -> k.concat(List.of(x, b), 1), x -> k.concat(List.of(x), 0),
                    x -> k.scatterRows(x, new int[] {1, 0, 1}, 2), x -> k.copyOf(x));
            for (Function<INDArray, INDArray> f : unary) {
                INDArray out = f.apply(a);
                assertNotSame(a, out);
                assertNotSame(b, out);
                assertEquals(type, out.dataType());
                assertTrue(!out.isView(), "a result is not a view");
                results.add(out);
            }
            assertArrayEquals(aBefore, k.toDoubles(a));
            assertArrayEquals(bBefore, k.toDoubles(b));
            results.add(a);
            results.add(b);
        }
        for (INDArray r : results) {
            assertTrue(r.wasClosed(), "the arena closed every result");
        }
    }
}
