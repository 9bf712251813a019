package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.stream.Stream;
import org.influence4j.api.model.GraphNode.Pair;
import org.influence4j.backend.djl.DjlKernels;
import org.influence4j.graph.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * im2col and its adjoint on an engine without a column gather ({@link DjlKernels#windows},
 * {@link DjlKernels#windowSums} on TensorFlow: strided views, spreads and zero padding, or one
 * transpose for tiles; no one-hot gather), against the definition written out on the host in float64,
 * for kernels with strides, padding, dilation, tiles, and inputs the windows do not cover to the
 * last row.
 */
class TfWindowsTest {

    static Stream<Arguments> geometries() {
        return Stream.of(
                Arguments.of("5x5 valid (the Fashion CNN's conv1)", new long[] {2, 1, 9, 8}, Pair.of(5), Pair.of(1),
                        Pair.of(0), Pair.of(1)),
                Arguments.of("3x3 stride 2 padding 1 (a ResNet downsampling)", new long[] {2, 3, 7, 6}, Pair.of(3),
                        Pair.of(2), Pair.of(1), Pair.of(1)),
                Arguments.of("3x2, stride (1, 2), padding (1, 0), dilation (2, 1)", new long[] {1, 2, 8, 7},
                        new Pair(3, 2), new Pair(1, 2), new Pair(1, 0), new Pair(2, 1)),
                Arguments.of("2x2 tiles (a pool's windows, one channel per row)", new long[] {3, 1, 4, 6}, Pair.of(2),
                        Pair.of(2), Pair.of(0), Pair.of(1)),
                Arguments.of("3x3 stride 2 padding 2 on 5x5: windows mostly padding", new long[] {1, 2, 5, 5},
                        Pair.of(3), Pair.of(2), Pair.of(2), Pair.of(1)),
                Arguments.of("3x2 tiles, padding (1, 0), on 7x7: the last rows and column in no window",
                        new long[] {2, 2, 7, 7}, new Pair(3, 2), new Pair(3, 2), new Pair(1, 0), Pair.of(1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void windowsAndTheirSumsEqualTheDefinition(String name, long[] s, Pair kernel, Pair stride, Pair padding,
                                               Pair dilation) {
        TfBackendProvider.backend(); // loads the engine with the backend's settings
        int n = (int) s[0];
        int c = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        int oh = (h + 2 * padding.h() - dilation.h() * (kernel.h() - 1) - 1) / stride.h() + 1;
        int ow = (w + 2 * padding.w() - dilation.w() * (kernel.w() - 1) - 1) / stride.w() + 1;
        int patch = c * kernel.h() * kernel.w();
        int rows = n * oh * ow;
        double[] x = new double[n * c * h * w];
        for (int q = 0; q < x.length; q++) {
            x[q] = q + 1 + q / 64.0;
        }
        double[] g = new double[rows * patch];
        for (int q = 0; q < g.length; q++) {
            g[q] = (q % 13) - 6 + q / 1024.0;
        }
        double[] windows = new double[rows * patch];
        double[] sums = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int ky = 0; ky < kernel.h(); ky++) {
                            for (int kx = 0; kx < kernel.w(); kx++) {
                                int iy = oy * stride.h() - padding.h() + ky * dilation.h();
                                int ix = ox * stride.w() - padding.w() + kx * dilation.w();
                                int at = ((i * oh + oy) * ow + ox) * patch + (ch * kernel.h() + ky) * kernel.w() + kx;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    int in = ((i * c + ch) * h + iy) * w + ix;
                                    windows[at] = x[in];
                                    sums[in] += g[at];
                                }
                            }
                        }
                    }
                }
            }
        }
        // no index: a gather here would fail the test
        Kernels.Windows geometry = new Kernels.Windows(kernel, stride, padding, dilation, null);
        try (NDManager m = Engine.getEngine("TensorFlow").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, DataType.FLOAT64, TfDTypes::create, (manager, a, index) -> {
                throw new AssertionError("gathered rows");
            });
            NDArray patches = k.windows(k.constant(x, s), geometry);
            assertArrayEquals(new long[] {rows, patch}, patches.getShape().getShape(), name);
            assertArrayEquals(windows, patches.toDoubleArray(), 0.0, name);
            NDArray summed = k.windowSums(k.constant(g, rows, patch), geometry, s);
            assertArrayEquals(s, summed.getShape().getShape(), name);
            double[] actual = summed.toDoubleArray();
            assertEquals(sums.length, actual.length);
            for (int q = 0; q < sums.length; q++) {
                assertEquals(sums[q], actual[q], 1e-12 * Math.max(1, Math.abs(sums[q])), name + " at " + q);
            }
        }
    }
}
