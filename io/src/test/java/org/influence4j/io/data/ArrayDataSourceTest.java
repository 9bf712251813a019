package org.influence4j.io.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.data.Batch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.influence4j.api.DType;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.io.Npz;
import org.influence4j.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ArrayDataSource}: features and labels from .npy, .npz and .safetensors files (round trips
 * for every element type and rank), the default and explicit array names, and one message per
 * kind of bad input naming the argument, the file and the fix.
 */
class ArrayDataSourceTest {

    private static final long[] IMAGE = {1, 2, 3};

    @TempDir
    Path dir;

    /** Four samples of shape [1, 2, 3]: sample i holds 10 i + j for j = 0..5. */
    private static double[] images() {
        double[] x = new double[4 * 6];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 6; j++) {
                x[i * 6 + j] = 10 * i + j;
            }
        }
        return x;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    @Test
    void npyFeaturesOfEveryElementTypeAndRankWithNpyLabels() throws IOException {
        double[] x = images();
        write("y.npy", npy("<i8", new long[] {4}, new double[] {0, 2, 1, 2}));
        for (String descr : new String[] {"<f4", "<f8", "<i4", "<i8"}) {
            Path features = write("x" + descr.substring(1) + ".npy", npy(descr, new long[] {4, 1, 2, 3}, x));
            ArrayDataSource source = ArrayDataSource.read("--train", features.toString(), "--train-labels",
                    dir.resolve("y.npy").toString(), IMAGE);
            assertArrayEquals(IMAGE, source.sampleShape());
            assertEquals(4, source.size());
            assertEquals(6, source.numFeatures());
            assertEquals(1, source.labelWidth());
            assertArrayEquals(x, source.batch().x(), descr);
            // held in the file's element type: float32 as float[] (4 bytes), integers as long[]
            assertEquals(descr.equals("<f4") ? HostArray.Storage.FLOAT32 : descr.equals("<f8")
                    ? HostArray.Storage.FLOAT64 : HostArray.Storage.INT64, source.batch().features().storage(), descr);
            assertArrayEquals(new long[] {4, 1, 2, 3}, source.batch().features().shape());
            // chunks keep the storage
            assertEquals(source.batch().features().storage(),
                    source.batches(3).next().features().storage(), descr);
            assertArrayEquals(new double[] {0, 2, 1, 2}, source.batch().y());
        }
        // rank 2 (format-1 specs: [n, inputDim]), labels [n, k] and chunks in order
        write("x2.npy", npy("<f8", new long[] {4, 6}, x));
        write("t.npy", npy("<f4", new long[] {4, 2}, new double[] {1, 2, 3, 4, 5, 6, 7, 8}));
        ArrayDataSource flat = ArrayDataSource.read("--test", dir.resolve("x2.npy").toString(), "--test-labels",
                dir.resolve("t.npy").toString(), new long[] {6});
        assertEquals(2, flat.labelWidth());
        Iterator<Batch> chunks = flat.batches(3);
        assertArrayEquals(java.util.Arrays.copyOfRange(x, 0, 18), chunks.next().x());
        Batch last = chunks.next();
        assertArrayEquals(new double[] {7, 8}, last.y());
        assertTrue(!chunks.hasNext());
        // no shape to check (a TorchScript model): anything of rank >= 2
        assertEquals(6, ArrayDataSource.read("--train", dir.resolve("x2.npy").toString(), "--train-labels",
                dir.resolve("y.npy").toString(), null).numFeatures());
    }

    @Test
    void npzByNameByDefaultAndLabelsFromTheSameArchive() throws IOException {
        Map<String, HostArray> arrays = new LinkedHashMap<>();
        arrays.put("x", new HostArray(images(), new long[] {4, 1, 2, 3}, DType.FLOAT32));
        arrays.put("y", new HostArray(new double[] {1, 0, 1, 1}, new long[] {4}, DType.FLOAT64));
        arrays.put("other", new HostArray(new double[] {3, 2, 1, 0}, new long[] {4}, DType.FLOAT64));
        Path npz = dir.resolve("data.npz");
        Npz.write(npz, arrays, true);
        // defaults: features x, labels the archive's y
        ArrayDataSource d = ArrayDataSource.read("--train", npz.toString(), "--train-labels", null, IMAGE);
        assertArrayEquals(images(), d.batch().x());
        assertArrayEquals(new double[] {1, 0, 1, 1}, d.batch().y());
        // explicit names
        ArrayDataSource named = ArrayDataSource.read("--train", npz + ":x", "--train-labels", npz + ":other", IMAGE);
        assertArrayEquals(new double[] {3, 2, 1, 0}, named.batch().y());
        // a single-array archive needs no name
        Path only = dir.resolve("only.npz");
        Npz.write(only, Map.of("features", arrays.get("x")), false);
        Npz.write(dir.resolve("labels.npz"), Map.of("whatever", arrays.get("y")), false);
        ArrayDataSource single = ArrayDataSource.read("--train", only.toString(), "--train-labels",
                dir.resolve("labels.npz").toString(), IMAGE);
        assertArrayEquals(new double[] {1, 0, 1, 1}, single.batch().y());
    }

    @Test
    void safetensorsByNameByDefaultAndIntegerIds() throws IOException {
        Map<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("x", new HostArray(images(), new long[] {4, 1, 2, 3}, DType.FLOAT64));
        tensors.put("y", new HostArray(new double[] {2, 1, 0, 1}, new long[] {4}, DType.FLOAT32));
        Path st = dir.resolve("data.safetensors");
        SafeTensors.write(st, tensors, Map.of());
        ArrayDataSource d = ArrayDataSource.read("--train", st.toString(), "--train-labels", null, IMAGE);
        assertArrayEquals(images(), d.batch().x());
        assertArrayEquals(new double[] {2, 1, 0, 1}, d.batch().y());
        ArrayDataSource named = ArrayDataSource.read("--train", st + ":x", "--train-labels", st + ":y", IMAGE);
        assertArrayEquals(new double[] {2, 1, 0, 1}, named.batch().y());
        // int64 token ids [n, T] as PyTorch saves them, labels from a .npy
        Path ids = write("ids.safetensors", safetensors("ids", "I64", new long[] {2, 3}, new double[] {5, 0, 19, 7, 7, 1}));
        write("labels.npy", npy("<i8", new long[] {2}, new double[] {0, 2}));
        ArrayDataSource tokens = ArrayDataSource.read("--train", ids.toString(), "--train-labels",
                dir.resolve("labels.npy").toString(), new long[] {3});
        assertArrayEquals(new double[] {5, 0, 19, 7, 7, 1}, tokens.batch().x());
        assertArrayEquals(new long[] {5, 0, 19, 7, 7, 1}, tokens.batch().features().longs());
    }

    @Test
    void differentSampleCountsNameBothArguments() throws IOException {
        Path x = write("x.npy", npy("<f8", new long[] {4, 1, 2, 3}, images()));
        Path y = write("y3.npy", npy("<i8", new long[] {3}, new double[] {0, 1, 0}));
        String m = fail(x.toString(), y.toString(), IMAGE);
        assertTrue(m.startsWith("--train-labels " + y + ": 3 labels but --train " + x + " has 4 samples"), m);
        assertTrue(m.contains("one label (row) per sample"), m);
    }

    @Test
    void aPerSampleShapeOtherThanTheModelsNamesBothShapes() throws IOException {
        Path x = write("x.npy", npy("<f8", new long[] {4, 6}, images()));
        Path y = write("y.npy", npy("<i8", new long[] {4}, new double[] {0, 1, 0, 1}));
        String m = fail(x.toString(), y.toString(), IMAGE);
        assertTrue(m.startsWith("--train " + x + ": per-sample feature shape [6] does not equal the model's input"
                + " shape [1, 2, 3]; save the features as [n, 1, 2, 3]"), m);
        Path vector = write("v.npy", npy("<f8", new long[] {24}, images()));
        m = fail(vector.toString(), y.toString(), IMAGE);
        assertTrue(m.contains("features have shape [24]; they need one row per sample, [n, ...] = [n, 1, 2, 3]"), m);
        Path matrixLabels = write("y3.npy", npy("<f8", new long[] {4, 1, 1}, new double[4]));
        Path images = write("images.npy", npy("<f8", new long[] {4, 1, 2, 3}, images()));
        m = fail(images.toString(), matrixLabels.toString(), IMAGE);
        assertTrue(m.contains("labels have shape [4, 1, 1]; they need [n]"), m);
    }

    @Test
    void missingFilesUnsupportedTypesAndMissingArraysSayWhatToDo() throws IOException {
        Path x = write("x.npy", npy("<f8", new long[] {4, 1, 2, 3}, images()));
        Path y = write("y.npy", npy("<i8", new long[] {4}, new double[] {0, 1, 0, 1}));
        String m = fail(dir.resolve("nope.npy").toString(), y.toString(), IMAGE);
        assertEquals("--train: file " + dir.resolve("nope.npy") + " does not exist", m);
        m = fail(x.toString(), dir.resolve("nope.npz:y").toString(), IMAGE);
        assertEquals("--train-labels: file " + dir.resolve("nope.npz") + " does not exist", m);

        Path text = dir.resolve("x.txt");
        Files.writeString(text, "1,2,3");
        m = fail(text.toString(), y.toString(), IMAGE);
        assertTrue(m.startsWith("--train " + text + ": unsupported file type; array data is .npy, .npz[:NAME] or"
                + " .safetensors[:NAME]"), m);

        Path complex = write("c.npy", npy("<c16", new long[] {1}, new double[0]));
        m = fail(x.toString(), complex.toString(), IMAGE);
        assertTrue(m.startsWith("--train-labels: " + complex + ": unsupported dtype '<c16'"), m);

        Path npz = dir.resolve("two.npz");
        Npz.write(npz, Map.of("a", new HostArray(new double[] {1}, new long[] {1, 1}, DType.FLOAT64),
                "b", new HostArray(new double[] {1}, new long[] {1, 1}, DType.FLOAT64)), false);
        m = fail(npz + ":c", y.toString(), new long[] {1});
        assertTrue(m.contains("no array 'c'") && (m.contains("[a, b]") || m.contains("[b, a]")), m);
        m = fail(npz.toString(), y.toString(), new long[] {1});
        assertTrue(m.contains("none is named 'x'; pick one with " + npz + ":NAME"), m);
        m = fail(x + ":x", y.toString(), IMAGE);
        assertTrue(m.contains("a .npy file holds one array; drop ':x'"), m);
        m = fail(x.toString(), null, IMAGE);
        assertTrue(m.startsWith("--train-labels: missing; the features " + x + " need their labels"), m);
    }

    private static String fail(String features, String labels, long[] shape) {
        return assertThrows(IllegalArgumentException.class,
                () -> ArrayDataSource.read("--train", features, "--train-labels", labels, shape)).getMessage();
    }

    /** A .npy written by hand following NumPy's format description (version 1.0). */
    private static byte[] npy(String descr, long[] shape, double[] values) {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims
                + (shape.length == 1 ? "," : "") + "), }";
        String header = dict + " ".repeat((64 - (11 + dict.length()) % 64) % 64) + "\n";
        int width = descr.endsWith("4") ? 4 : descr.equals("<c16") ? 16 : 8;
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        bb.put(header.getBytes(StandardCharsets.US_ASCII));
        for (double v : values) {
            switch (descr) {
                case "<f4" -> bb.putFloat((float) v);
                case "<f8" -> bb.putDouble(v);
                case "<i4" -> bb.putInt((int) v);
                default -> bb.putLong((long) v);
            }
        }
        return bb.array();
    }

    /** A one-tensor safetensors file written by hand following the format description. */
    private static byte[] safetensors(String name, String dtype, long[] shape, double[] values) {
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ",").append(shape[i]);
        }
        byte[] h = ("{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + dims + "],\"data_offsets\":[0,"
                + values.length * 8 + "]}}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + h.length + values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(h.length).put(h);
        for (double v : values) {
            bb.putLong((long) v);
        }
        return bb.array();
    }

    @Test
    void theFlatNpyOfInfluence4jIsReadToo() throws IOException {
        Npy.write(dir.resolve("w.npy"), new HostArray(images(), new long[] {4, 1, 2, 3}, DType.FLOAT32));
        write("y.npy", npy("<f4", new long[] {4}, new double[] {0.25, 0.5, 0.75, 1}));
        ArrayDataSource d = ArrayDataSource.read("--train", dir.resolve("w.npy").toString(), "--train-labels",
                dir.resolve("y.npy").toString(), IMAGE);
        assertArrayEquals(images(), d.batch().x());
        assertArrayEquals(new double[] {0.25, 0.5, 0.75, 1}, d.batch().y());
    }
}
