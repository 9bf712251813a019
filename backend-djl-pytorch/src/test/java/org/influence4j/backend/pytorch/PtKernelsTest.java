package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.influence4j.backend.djl.DjlKernels;
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
            double inf = Double.NEGATIVE_INFINITY;
            NDArray a = k.constant(new double[] {
                0, 1, 1, 0,
                2, 2, 2, 2,
                0, 0, 0, 0,
                inf, -3, inf, -3,
                -1, -2, 5, 5,
                inf, inf, inf, 7}, 2, 3, 4);
            double[] expectedMask = {
                0, 1, 0, 0,
                1, 0, 0, 0,
                1, 0, 0, 0,
                0, 1, 0, 0,
                0, 0, 1, 0,
                0, 0, 0, 1};
            assertArrayEquals(expectedMask, k.toDoubles(k.argmaxMask(a)));
            assertArrayEquals(new double[] {1, 2, 0, -3, 5, 7}, k.toDoubles(k.maxLast(a)));
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
}
