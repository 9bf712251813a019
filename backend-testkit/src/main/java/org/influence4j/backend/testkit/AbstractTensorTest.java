package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tensor algebra against hand-computed results, shape errors that name the shapes, dtype promotion
 * (results take the receiver's dtype) and scope ownership ({@code moveTo}, closing a child scope
 * closes what it owns). A backend's test supplies {@link #backend()} and {@link #isClosed(Tensor)}.
 */
public abstract class AbstractTensorTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    /** Whether the backend's native tensor behind {@code tensor} has been released. */
    protected abstract boolean isClosed(Tensor tensor);

    private TensorScope scope;

    // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]
    private static final double[] A = {1, 2, 3, 4, 5, 6};
    private static final double[] B = {7, 8, 9, 10, 11, 12};

    @BeforeEach
    public void open() {
        scope = backend().newScope();
    }

    @AfterEach
    public void close() {
        scope.close();
    }

    private Tensor t(double[] data, long... shape) {
        return scope.fromArray(data, DType.FLOAT64, shape);
    }

    @Test
    public void matmulMatrixAndVectorAgainstHandComputedProducts() {
        Tensor a = t(A, 2, 3);
        assertArrayEquals(new double[] {58, 64, 139, 154}, a.matmul(t(B, 3, 2)).toDoubleArray(), 0);
        assertArrayEquals(new long[] {2, 2}, a.matmul(t(B, 3, 2)).shape());
        Tensor mv = a.matmul(t(new double[] {1, 0, -1}, 3));
        assertArrayEquals(new long[] {2}, mv.shape());
        assertArrayEquals(new double[] {-2, -2}, mv.toDoubleArray(), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.matmul(a));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    public void transposeAndElementwiseOps() {
        Tensor a = t(A, 2, 3);
        Tensor at = a.transpose();
        assertArrayEquals(new long[] {3, 2}, at.shape());
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, at.toDoubleArray(), 0);
        Tensor b = t(new double[] {6, 5, 4, 3, 2, 1}, 2, 3);
        assertArrayEquals(new double[] {7, 7, 7, 7, 7, 7}, a.add(b).toDoubleArray(), 0);
        assertArrayEquals(new double[] {-5, -3, -1, 1, 3, 5}, a.sub(b).toDoubleArray(), 0);
        assertArrayEquals(new double[] {6, 10, 12, 12, 10, 6}, a.mul(b).toDoubleArray(), 0);
        assertArrayEquals(new double[] {-0.5, -1, -1.5, -2, -2.5, -3}, a.scale(-0.5).toDoubleArray(), 0);
        assertArrayEquals(new double[] {13, 12, 11, 10, 9, 8}, a.axpy(2, b).toDoubleArray(), 0);
        assertEquals(56, a.dot(b), 0);
        assertEquals(Math.sqrt(91), a.norm(), 1e-15);
        assertArrayEquals(new double[] {28, 28}, a.rowDots(b).toDoubleArray(), 0);
        assertArrayEquals(new double[] {2, 4, 6, -4, -5, -6},
                a.scaleRows(t(new double[] {2, -1}, 2)).toDoubleArray(), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(a.transpose()));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.scaleRows(t(new double[] {1, 2, 3}, 3)));
    }

    @Test
    public void rowsReshapeConcatAndErrors() {
        Tensor a = t(A, 2, 3);
        assertArrayEquals(new double[] {4, 5, 6}, a.rows(1, 2).toDoubleArray(), 0);
        assertArrayEquals(new long[] {1, 3}, a.rows(1, 2).shape());
        assertArrayEquals(new long[] {0, 3}, a.rows(1, 1).shape());
        assertThrows(IllegalArgumentException.class, () -> a.rows(1, 3));
        assertArrayEquals(new long[] {3, 2}, a.reshape(3, 2).shape());
        assertArrayEquals(A, a.reshape(6).toDoubleArray(), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.reshape(4, 2));
        assertTrue(e.getMessage().contains("[4, 2]"), e.getMessage());
        Tensor c = a.concat(t(new double[] {7, 8, 9}, 1, 3));
        assertArrayEquals(new long[] {3, 3}, c.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, c.toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> a.concat(t(B, 3, 2)));
        assertThrows(IllegalArgumentException.class, () -> scope.fromArray(A, DType.FLOAT64, 4, 2));
    }

    /** Rows by index, repeated and out of order, in both dtypes; a vector or an index out of range is refused. */
    @Test
    public void gatherRowsTakesRowsByIndex() {
        for (DType dtype : DType.values()) {
            Tensor a = scope.fromArray(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, dtype, 3, 3);
            Tensor g = a.gatherRows(new int[] {2, 0, 2, 1});
            assertArrayEquals(new long[] {4, 3}, g.shape());
            assertEquals(dtype, g.dtype());
            assertArrayEquals(new double[] {7, 8, 9, 1, 2, 3, 7, 8, 9, 4, 5, 6}, g.toDoubleArray(), 0);
            assertArrayEquals(new long[] {0, 3}, a.gatherRows(new int[0]).shape());
        }
        Tensor a = t(A, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.gatherRows(new int[] {0, 2}));
        assertTrue(e.getMessage().startsWith("gatherRows: row 2 is outside the 2 rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.reshape(6).gatherRows(new int[] {0}));
    }

    @Test
    public void dtypeConversionFollowsTheReceiver() {
        Tensor f = scope.fromArray(new double[] {0.1, 0.2}, DType.FLOAT32, 2);
        Tensor d = t(new double[] {1e-9, 1}, 2);
        assertEquals(DType.FLOAT32, f.add(d).dtype());
        assertEquals(DType.FLOAT64, d.add(f).dtype());
        assertArrayEquals(new float[] {0.1f, 0.2f}, f.toFloatArray(), 0);
        assertEquals((double) 0.1f, f.toDoubleArray()[0], 0);
        Tensor back = f.toType(DType.FLOAT64);
        assertEquals(DType.FLOAT64, back.dtype());
        assertEquals(DType.FLOAT32, d.toType(DType.FLOAT32).dtype());
        assertArrayEquals(new double[] {1, 0, 0, 1}, scope.eye(DType.FLOAT32, 2).toDoubleArray(), 0);
        assertArrayEquals(new double[] {0, 0, 0}, scope.zeros(DType.FLOAT64, 3).toDoubleArray(), 0);
        assertEquals(5.0, scope.fromArray(new double[] {5}, DType.FLOAT64).toDoubleArray()[0], 0);
    }

    @Test
    public void resultsBelongToTheReceiversScopeAndMoveToSurvivesClosing() {
        TensorScope other = backend().newScope();
        Tensor a = t(A, 2, 3);
        Tensor b = other.fromArray(A, DType.FLOAT64, 2, 3);
        Tensor sum = a.add(b);
        assertSame(scope, sum.scope());
        TensorScope child = scope.newChild();
        Tensor tmp = child.fromArray(B, DType.FLOAT64, 3, 2);
        Tensor lost = tmp.scale(2);
        Tensor kept = tmp.scale(3).moveTo(scope);
        assertSame(child, lost.scope());
        assertSame(scope, kept.scope());
        child.close();
        assertTrue(isClosed(lost));
        assertThrows(IllegalStateException.class, lost::toDoubleArray);
        assertArrayEquals(new double[] {21, 24, 27, 30, 33, 36}, kept.toDoubleArray(), 0);
        other.close();
        assertArrayEquals(new double[] {2, 4, 6, 8, 10, 12}, sum.toDoubleArray(), 0);
        sum.close();
        sum.close();
        assertThrows(IllegalStateException.class, sum::shape);
    }
}
