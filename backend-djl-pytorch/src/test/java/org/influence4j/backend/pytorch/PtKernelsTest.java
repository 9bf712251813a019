package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.influence4j.api.model.GraphNode;
import org.influence4j.backend.djl.DjlKernels;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.graph.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The PyTorch kernels that pool windows go through: the first-maximum mask and the maxima along a
 * short last axis, taken from its slices, keep argmax's tie rule (the first maximum wins) and skip
 * −∞ (padded positions), as {@code torch.argmax} and {@code max} do; a long axis takes the reduction.
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
}
