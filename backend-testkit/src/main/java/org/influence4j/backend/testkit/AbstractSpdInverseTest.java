package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Random;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Tensor#spdInverse()} against closed forms: {@code A = Q D Q} with a Householder reflection
 * {@code Q} has the inverse {@code Q D⁻¹ Q}, computed here on the host in O(n²). Sizes cross the
 * default's host block ({@code n = 600}: two levels of Schur complements; 257: an odd split), float64
 * to a relative 1e-12 and float32 to 1e-5 (κ = 10); a matrix with one negative eigenvalue, a negative
 * leading pivot and a non-finite entry are not positive definite (empty); only the upper triangle is
 * read (NaN below the diagonal changes nothing); a non-square tensor is refused. A backend's test
 * supplies {@link #backend()}.
 */
public abstract class AbstractSpdInverseTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    private TensorScope scope;

    @BeforeEach
    public void open() {
        scope = backend().newScope();
    }

    @AfterEach
    public void close() {
        scope.close();
    }

    @Test
    public void float64InverseMatchesTheClosedFormAcrossBlockSizes() {
        for (int n : new int[] {1, 5, 257, 600}) {
            double[] d = eigenvalues(n, 1, 10);
            double[] u = unit(n, n);
            Tensor a = scope.fromArray(reflected(u, d), DType.FLOAT64, n, n);
            Tensor inverse = a.spdInverse().orElseThrow(() -> new AssertionError("not positive definite"));
            assertEquals(DType.FLOAT64, inverse.dtype());
            assertArrayEquals(new long[] {n, n}, inverse.shape());
            double error = relativeError(inverse.toDoubleArray(), reflected(u, reciprocals(d)));
            assertTrue(error < 1e-12, "n = " + n + ": relative error " + error);
        }
    }

    @Test
    public void float32InverseMatchesTheClosedForm() {
        int n = 600;
        double[] d = eigenvalues(n, 1, 10);
        double[] u = unit(n, 3);
        Tensor a = scope.fromArray(reflected(u, d), DType.FLOAT32, n, n);
        Tensor inverse = a.spdInverse().orElseThrow(() -> new AssertionError("not positive definite"));
        assertEquals(DType.FLOAT32, inverse.dtype());
        double error = relativeError(inverse.toDoubleArray(), reflected(u, reciprocals(d)));
        assertTrue(error < 1e-5, "relative error " + error);
    }

    @Test
    public void onlyTheUpperTriangleIsRead() {
        int n = 300;
        double[] d = eigenvalues(n, 0.5, 4);
        double[] u = unit(n, 7);
        double[] values = reflected(u, d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                values[i * n + j] = Double.NaN;
            }
        }
        Tensor inverse = scope.fromArray(values, DType.FLOAT64, n, n).spdInverse()
                .orElseThrow(() -> new AssertionError("not positive definite"));
        double error = relativeError(inverse.toDoubleArray(), reflected(u, reciprocals(d)));
        assertTrue(error < 1e-12, "relative error " + error);
    }

    @Test
    public void matricesThatAreNotPositiveDefiniteGiveEmpty() {
        int n = 600;
        double[] d = eigenvalues(n, 1, 10);
        d[n / 3] = -0.5;
        assertEquals(Optional.empty(), scope.fromArray(reflected(unit(n, 11), d), DType.FLOAT64, n, n).spdInverse());
        double[] leading = reflected(unit(n, 13), eigenvalues(n, 1, 10));
        leading[0] = -1;
        assertEquals(Optional.empty(), scope.fromArray(leading, DType.FLOAT64, n, n).spdInverse());
        double[] nonFinite = reflected(unit(n, 17), eigenvalues(n, 1, 10));
        nonFinite[n + 400] = Double.POSITIVE_INFINITY;
        assertEquals(Optional.empty(), scope.fromArray(nonFinite, DType.FLOAT64, n, n).spdInverse());
        assertEquals(Optional.empty(), scope.fromArray(new double[] {1, 2, 2, 1}, DType.FLOAT32, 2, 2).spdInverse());
    }

    @Test
    public void aNonSquareTensorIsRefused() {
        Tensor a = scope.fromArray(new double[] {1, 2, 3, 4, 5, 6}, DType.FLOAT64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, a::spdInverse);
        assertTrue(e.getMessage().contains("spdInverse") && e.getMessage().contains("[2, 3]"), e.getMessage());
        Tensor v = scope.fromArray(new double[] {1, 2}, DType.FLOAT64, 2);
        assertThrows(IllegalArgumentException.class, v::spdInverse);
    }

    /** @return n eigenvalues spread over [low, high] in a shuffled order */
    private static double[] eigenvalues(int n, double low, double high) {
        double[] d = new double[n];
        Random random = new Random(n);
        for (int i = 0; i < n; i++) {
            d[i] = low + (high - low) * (n > 1 ? (double) i / (n - 1) : 0);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            double t = d[i];
            d[i] = d[j];
            d[j] = t;
        }
        return d;
    }

    private static double[] reciprocals(double[] d) {
        double[] r = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            r[i] = 1 / d[i];
        }
        return r;
    }

    /** @return a random unit vector of length n */
    private static double[] unit(int n, long seed) {
        Random random = new Random(seed);
        double[] u = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++) {
            u[i] = random.nextGaussian();
            norm += u[i] * u[i];
        }
        for (int i = 0; i < n; i++) {
            u[i] /= Math.sqrt(norm);
        }
        return u;
    }

    /**
     * @return {@code Q diag(d) Q} row-major, {@code Q = I − 2uuᵀ}: entry (i, j) is
     *     {@code δᵢⱼdᵢ − 2uᵢuⱼ(dᵢ + dⱼ) + 4uᵢuⱼ·Σₖuₖ²dₖ}
     */
    private static double[] reflected(double[] u, double[] d) {
        int n = d.length;
        double s = 0;
        for (int k = 0; k < n; k++) {
            s += u[k] * u[k] * d[k];
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i * n + j] = (i == j ? d[i] : 0) - 2 * u[i] * u[j] * (d[i] + d[j]) + 4 * u[i] * u[j] * s;
            }
        }
        return a;
    }

    /** @return {@code ‖actual − expected‖_F / ‖expected‖_F} */
    private static double relativeError(double[] actual, double[] expected) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }
}
