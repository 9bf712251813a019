package org.influence4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorChecksTest {

    private static void assertRejected(String message, Executable check) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, check);
        assertEquals(message, e.getMessage());
    }

    @Test
    void checkShapeCountsElementsAndRejectsNullNegativeAndOverflow() {
        assertEquals(1, TensorChecks.checkShape("zeros", new long[0]));
        assertEquals(24, TensorChecks.checkShape("zeros", new long[] {2, 3, 4}));
        assertEquals(0, TensorChecks.checkShape("zeros", new long[] {5, 0}));
        assertRejected("fromArray: shape must not be null (a scalar is new long[0])",
                () -> TensorChecks.checkShape("fromArray", null));
        assertRejected("zeros: shape [2, -1] has a negative dimension",
                () -> TensorChecks.checkShape("zeros", new long[] {2, -1}));
        assertThrows(ArithmeticException.class,
                () -> TensorChecks.checkShape("zeros", new long[] {1L << 32, 1L << 32}));
    }

    @Test
    void checkFromArrayNeedsDataMatchingTheShape() {
        assertEquals(6, TensorChecks.checkFromArray(new double[6], new long[] {2, 3}));
        assertEquals(1, TensorChecks.checkFromArray(new double[] {7}, new long[0]));
        assertRejected("fromArray: data must not be null", () -> TensorChecks.checkFromArray(null, new long[] {2}));
        assertRejected("fromArray: shape must not be null (a scalar is new long[0])",
                () -> TensorChecks.checkFromArray(new double[1], null));
        assertRejected("fromArray: shape [-1] has a negative dimension",
                () -> TensorChecks.checkFromArray(new double[1], new long[] {-1}));
        assertRejected("fromArray: data has 6 values but shape [4, 2] needs 8",
                () -> TensorChecks.checkFromArray(new double[6], new long[] {4, 2}));
    }

    @Test
    void checkEye() {
        TensorChecks.checkEye(0);
        TensorChecks.checkEye(Integer.MAX_VALUE);
        assertRejected("eye: n must be in [0, 2^31), got -1", () -> TensorChecks.checkEye(-1));
        assertRejected("eye: n must be in [0, 2^31), got 2147483648", () -> TensorChecks.checkEye(1L << 31));
    }

    @Test
    void checkSameShape() {
        TensorChecks.checkSameShape("add", new long[] {2, 3}, new long[] {2, 3});
        assertRejected("dot: shapes [2, 3] and [3, 2] differ; both operands must have the same shape",
                () -> TensorChecks.checkSameShape("dot", new long[] {2, 3}, new long[] {3, 2}));
        assertRejected("add: shapes [] and [1] differ; both operands must have the same shape",
                () -> TensorChecks.checkSameShape("add", new long[0], new long[] {1}));
    }

    @Test
    void checkMatmulAcceptsMatrixTimesMatrixOrVector() {
        TensorChecks.checkMatmul(new long[] {2, 3}, new long[] {3, 4});
        TensorChecks.checkMatmul(new long[] {2, 3}, new long[] {3});
        String tail = " do not align; expected [a,b] x [b,c] or [a,b] x [b]";
        assertRejected("matmul: shapes [2, 3] and [2, 3]" + tail,
                () -> TensorChecks.checkMatmul(new long[] {2, 3}, new long[] {2, 3}));
        assertRejected("matmul: shapes [3] and [3]" + tail,
                () -> TensorChecks.checkMatmul(new long[] {3}, new long[] {3}));
        assertRejected("matmul: shapes [2, 3] and [3, 1, 1]" + tail,
                () -> TensorChecks.checkMatmul(new long[] {2, 3}, new long[] {3, 1, 1}));
        assertRejected("matmul: shapes [2, 3] and []" + tail,
                () -> TensorChecks.checkMatmul(new long[] {2, 3}, new long[0]));
    }

    @Test
    void matrixOnlyChecks() {
        TensorChecks.checkTranspose(new long[] {2, 3});
        TensorChecks.checkRowDots(new long[] {0, 3});
        assertRejected("transpose: needs a matrix, got shape [3]",
                () -> TensorChecks.checkTranspose(new long[] {3}));
        assertRejected("rowDots: needs two matrices [k,p], got shape [1, 2, 3]",
                () -> TensorChecks.checkRowDots(new long[] {1, 2, 3}));
    }

    @Test
    void checkScaleRows() {
        TensorChecks.checkScaleRows(new long[] {2, 3}, new long[] {2});
        String head = "scaleRows: needs a matrix [k,p] and factors [k], got shapes ";
        assertRejected(head + "[2, 3] and [3]",
                () -> TensorChecks.checkScaleRows(new long[] {2, 3}, new long[] {3}));
        assertRejected(head + "[2] and [2]",
                () -> TensorChecks.checkScaleRows(new long[] {2}, new long[] {2}));
        assertRejected(head + "[2, 3] and [2, 1]",
                () -> TensorChecks.checkScaleRows(new long[] {2, 3}, new long[] {2, 1}));
    }

    @Test
    void checkRows() {
        TensorChecks.checkRows(new long[] {4, 2}, 0, 4);
        TensorChecks.checkRows(new long[] {4}, 2, 2);
        assertRejected("rows: a scalar has no rows", () -> TensorChecks.checkRows(new long[0], 0, 0));
        assertRejected("rows: range [1, 5) is outside the 4 rows of shape [4, 2]",
                () -> TensorChecks.checkRows(new long[] {4, 2}, 1, 5));
        assertRejected("rows: range [-1, 2) is outside the 4 rows of shape [4]",
                () -> TensorChecks.checkRows(new long[] {4}, -1, 2));
        assertRejected("rows: range [3, 2) is outside the 4 rows of shape [4]",
                () -> TensorChecks.checkRows(new long[] {4}, 3, 2));
    }

    @Test
    void checkReshapeReturnsTheCountAndRejectsOtherCounts() {
        assertEquals(6, TensorChecks.checkReshape(new long[] {2, 3}, new long[] {3, 2}));
        assertEquals(1, TensorChecks.checkReshape(new long[] {1, 1}, new long[0]));
        assertEquals(0, TensorChecks.checkReshape(new long[] {0, 3}, new long[] {5, 0}));
        assertRejected("reshape: newShape must not be null",
                () -> TensorChecks.checkReshape(new long[] {2}, null));
        assertRejected("reshape: shape [-2, -3] has a negative dimension",
                () -> TensorChecks.checkReshape(new long[] {2, 3}, new long[] {-2, -3}));
        assertRejected("reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)",
                () -> TensorChecks.checkReshape(new long[] {2, 3}, new long[] {4, 2}));
    }

    @Test
    void checkConcatNeedsEqualTrailingDimensions() {
        TensorChecks.checkConcat(new long[] {2, 3}, new long[] {5, 3});
        TensorChecks.checkConcat(new long[] {0}, new long[] {4});
        String tail = " cannot be stacked along dimension 0; all other dimensions must agree";
        assertRejected("concat: shapes [2, 3] and [3, 2]" + tail,
                () -> TensorChecks.checkConcat(new long[] {2, 3}, new long[] {3, 2}));
        assertRejected("concat: shapes [2, 3] and [6]" + tail,
                () -> TensorChecks.checkConcat(new long[] {2, 3}, new long[] {6}));
        assertRejected("concat: shapes [] and []" + tail,
                () -> TensorChecks.checkConcat(new long[0], new long[0]));
    }

    @Test
    void requireTypeRejectsNull() {
        assertRejected("v: expected a test tensor, got null",
                () -> TensorChecks.requireType(Tensor.class, null, "v", "a test tensor"));
    }

    @Test
    void openChecks() {
        TensorChecks.checkTensorOpen(false);
        TensorChecks.checkScopeOpen(false);
        IllegalStateException t = assertThrows(IllegalStateException.class, () -> TensorChecks.checkTensorOpen(true));
        assertEquals("tensor is closed (close() was called or its scope was closed)", t.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> TensorChecks.checkScopeOpen(true));
        assertEquals("tensor scope is closed; create tensors in an open scope", s.getMessage());
        TensorChecks.checkResultScopeOpen(false);
        IllegalStateException r = assertThrows(IllegalStateException.class,
                () -> TensorChecks.checkResultScopeOpen(true));
        assertEquals("scope: is closed; pass an open scope for the results", r.getMessage());
    }
}
