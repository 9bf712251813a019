package org.influence4j.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.influence4j.api.DType;
import org.junit.jupiter.api.Test;

/** Typed host storage: float32 stays float[], ids stay long[], through every batch operation. */
class HostArrayTest {

    private static Batch floatImages() {
        float[] x = new float[4 * 2 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = 0.1f * i;
        }
        return new Batch(HostArray.ofFloats(x, 4, 2, 3), new double[] {0, 1, 2, 3}, 1);
    }

    /**
     * Against the element-by-element definition: several sizes, the first of two non-finite values
     * wherever they are, and finite extremes (largest, subnormal, -0) passing.
     */
    @Test
    void firstNonFiniteFindsTheFirstNaNOrInfinityInEveryStorage() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        double[] extremes = {Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_VALUE, Float.MAX_VALUE, Float.MIN_VALUE,
            -0.0, 0.0};
        double[] bad = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (int n : new int[] {0, 1, 4095, 4096, 4097, 9000}) {
            for (int trial = 0; trial < 8; trial++) {
                double[] d = new double[n];
                for (int i = 0; i < n; i++) {
                    d[i] = random.nextInt(4) == 0 ? extremes[random.nextInt(extremes.length)] : random.nextGaussian();
                }
                int expected = -1;
                if (n > 0 && trial > 0) {
                    int at = trial == 1 ? n - 1 : random.nextInt(n);
                    d[at] = bad[trial % bad.length];
                    int later = at + random.nextInt(n - at);
                    d[later] = bad[(trial + 1) % bad.length];
                    expected = at;
                }
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    // float32 has its own extremes: a double beyond them is an infinity there
                    f[i] = Double.isFinite(d[i]) && Math.abs(d[i]) > Float.MAX_VALUE ? Float.MAX_VALUE : (float) d[i];
                }
                String where = "n = " + n + ", trial " + trial;
                assertEquals(expected, new HostArray(d, new long[] {n}, DType.FLOAT64).firstNonFinite(), where);
                assertEquals(expected, HostArray.ofFloats(f, n).firstNonFinite(), where);
            }
        }
    }

    @Test
    void accessorsReturnTheStorageItselfAndConvertOtherwise() {
        float[] f = {0.1f, 2.5f};
        HostArray a = HostArray.ofFloats(f, 2);
        assertSame(f, a.floats());
        assertArrayEquals(new double[] {0.1f, 2.5f}, a.doubles());
        long[] ids = {(1L << 53) + 1, 3};
        HostArray b = HostArray.ofLongs(ids, DType.FLOAT64, 1, 2);
        assertSame(ids, b.longs());
        assertEquals(HostArray.Storage.INT64, b.storage());
        double[] d = {1, 2};
        HostArray c = new HostArray(d, new long[] {2}, DType.FLOAT32);
        assertSame(d, c.data());
        assertArrayEquals(new long[] {1, 2}, c.longs());
        IllegalStateException e = assertThrows(IllegalStateException.class, a::longs);
        assertEquals("HostArray: element 0 is 0.10000000149011612, not an integer", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HostArray.ofFloats(f, 3));
    }

    @Test
    void sliceSelectConcatAndReplicationKeepTheStorageAndShape() {
        Batch b = floatImages();
        assertEquals(6, b.numFeatures());
        assertEquals(4, b.size());
        Batch slice = b.slice(1, 3);
        assertEquals(HostArray.Storage.FLOAT32, slice.features().storage());
        assertArrayEquals(new long[] {2, 2, 3}, slice.features().shape());
        assertEquals(0.1f * 6, slice.features().floats()[0]);
        Batch picked = b.select(new int[] {3, 0});
        assertArrayEquals(new long[] {2, 2, 3}, picked.features().shape());
        assertEquals(0.1f * 18, picked.features().floats()[0]);
        assertArrayEquals(new double[] {3, 0}, picked.y());
        Batch both = slice.concat(picked);
        assertEquals(HostArray.Storage.FLOAT32, both.features().storage());
        assertArrayEquals(new long[] {4, 2, 3}, both.features().shape());
        assertArrayEquals(new double[] {1, 2, 3, 0}, both.y());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.concat(new Batch(b.x(), 6, b.y(), 1)));
        assertTrue(e.getMessage().contains("cannot concatenate FLOAT32 and FLOAT64"), e.getMessage());
    }

    @Test
    void nonFiniteFloatsAreNamedAndShapesAreChecked() {
        float[] x = {1, 2, Float.NaN, 4};
        Batch b = new Batch(HostArray.ofFloats(x, 2, 2), new double[] {0, 1}, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.requireFinite("--train"));
        assertEquals("--train: x[1][0] is NaN; data must be finite", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Batch(HostArray.ofFloats(x, 4), new double[] {0, 1, 2, 3}, 1));
        assertTrue(e.getMessage().contains("[n, ...]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Batch(HostArray.ofFloats(x, 2, 2), new double[] {0, 1, 2}, 1));
        assertTrue(e.getMessage().contains("x has 2 samples but y has 3"), e.getMessage());
    }

    @Test
    void batchesSerializeWithTheirStorage() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(floatImages());
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            Batch back = (Batch) in.readObject();
            assertEquals(HostArray.Storage.FLOAT32, back.features().storage());
            assertArrayEquals(floatImages().features().floats(), back.features().floats());
            assertArrayEquals(new long[] {4, 2, 3}, back.features().shape());
        }
    }
}
