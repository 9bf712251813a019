package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.data.HostArray;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.influence4j.api.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Npz} on archives written by NumPy itself (class-path resources made with
 * {@code np.savez_compressed("numpy_compressed.npz", x=np.arange(12, dtype=np.int64).reshape(3, 2, 2) - 5,
 * y=np.array([0.5, -1.25, 3.0], dtype=np.float32), ids=np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32))}
 * and {@code np.savez("numpy_stored.npz", w=np.linspace(-1, 1, 6).reshape(2, 3))}, numpy 2.4), on its
 * own archives, and on broken or hostile ones; {@link Npy} and {@link SafeTensors} on integer arrays.
 */
class NpzTest {

    @TempDir
    Path dir;

    private Path resource(String name) throws IOException {
        Path file = dir.resolve(name);
        try (InputStream in = NpzTest.class.getResourceAsStream(name)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    @Test
    void readsWhatNumpyWrote() throws IOException {
        Path compressed = resource("numpy_compressed.npz");
        assertEquals(List.of("x", "y", "ids"), Npz.names(compressed));
        HostArray x = Npz.read(compressed, "x");
        assertArrayEquals(new long[] {3, 2, 2}, x.shape());
        assertArrayEquals(new double[] {-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6}, x.data());
        HostArray y = Npz.read(compressed, "y");
        assertEquals(DType.FLOAT32, y.dtype());
        assertArrayEquals(new double[] {0.5, -1.25, 3.0}, y.data());
        HostArray ids = Npz.readAll(compressed).get("ids");
        assertArrayEquals(new long[] {2, 3}, ids.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, ids.data());

        HostArray w = Npz.read(resource("numpy_stored.npz"), "w");
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(new double[] {-1.0, -0.6, -0.19999999999999996, 0.20000000000000018, 0.6000000000000001,
                1.0}, w.data());
    }

    @Test
    void roundTripsStoredAndCompressed() throws IOException {
        Map<String, HostArray> arrays = new LinkedHashMap<>();
        arrays.put("x", new HostArray(new double[] {1.5, -2, 3, 4, 5, 6.25}, new long[] {3, 1, 2}, DType.FLOAT64));
        arrays.put("labels_2", new HostArray(new double[] {0, 1, 0}, new long[] {3}, DType.FLOAT32));
        for (boolean compressed : new boolean[] {false, true}) {
            Path file = dir.resolve("round" + compressed + ".npz");
            Npz.write(file, arrays, compressed);
            Map<String, HostArray> back = Npz.readAll(file);
            assertEquals(arrays.keySet(), back.keySet());
            for (String name : arrays.keySet()) {
                assertArrayEquals(arrays.get(name).shape(), back.get(name).shape());
                assertArrayEquals(arrays.get(name).data(), back.get(name).data());
                assertEquals(arrays.get(name).dtype(), back.get(name).dtype());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Npz.write(dir.resolve("bad.npz"),
                Map.of("a/b", arrays.get("x")), false));
    }

    @Test
    void namesTheMissingArrayAndTheOnesThereAre() throws IOException {
        Path file = resource("numpy_compressed.npz");
        IOException e = assertThrows(IOException.class, () -> Npz.read(file, "z"));
        assertTrue(e.getMessage().contains("no array 'z'") && e.getMessage().contains("[x, y, ids]"), e.getMessage());
    }

    @Test
    void rejectsNonZipNestedOddAndNonNpyEntries() throws IOException {
        Path text = dir.resolve("text.npz");
        Files.writeString(text, "not a zip");
        assertMessage(text, "not an .npz file");

        byte[] npy = npyBytes("<f8", new long[] {2}, new double[] {1, 2});
        assertMessage(zip("nested.npz", Map.of("a/x.npy", npy), true), "nested or odd name");
        assertMessage(zip("dots.npz", Map.of("../x.npy", npy), true), "nested or odd name");
        assertMessage(zip("other.npz", Map.of("x.txt", npy), true), "is not a .npy array");
        assertMessage(zip("empty.npz", Map.of(), true), "holds no arrays");
    }

    @Test
    void rejectsAnEntryWhoseDeclaredSizeIsAbsurd() throws IOException {
        Path file = zip("bomb.npz", Map.of("x.npy", npyBytes("<f8", new long[] {4}, new double[] {1, 2, 3, 4})), true);
        // the central directory's uncompressed size (offset 24 of its file header) raised to 2 GB for
        // a deflated entry of about 50 bytes: more than deflate can expand to
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int cen = -1;
        for (int i = bytes.length - 22; i >= 0; i--) {
            if (bb.getInt(i) == 0x02014b50) {
                cen = i;
                break;
            }
        }
        assertTrue(cen > 0);
        bb.putInt(cen + 24, 2_000_000_000);
        Files.write(file, bytes);
        assertMessage(file, "absurd uncompressed size");
    }

    @Test
    void rejectsAHeaderWhoseShapeDoesNotFitTheEntry() throws IOException {
        byte[] npy = npyBytes("<f8", new long[] {4}, new double[] {1, 2, 3, 4});
        byte[] lying = npyBytes("<f8", new long[] {1_000_000}, new double[0]);
        byte[] withData = new byte[lying.length + 32];
        System.arraycopy(lying, 0, withData, 0, lying.length);
        System.arraycopy(npy, npy.length - 32, withData, lying.length, 32);
        Path file = zip("lying.npz", Map.of("x.npy", withData), true);
        IOException e = assertThrows(IOException.class, () -> Npz.read(file, "x"));
        assertTrue(e.getMessage().contains("truncated data") && e.getMessage().contains("lying.npz:x"),
                e.getMessage());
    }

    @Test
    void npyAndSafetensorsReadIntegers() throws IOException {
        Path i8 = dir.resolve("ids.npy");
        Files.write(i8, npyBytes("<i8", new long[] {2, 2}, new double[] {3, -4, 1L << 40, 7}));
        HostArray a = Npy.read(i8);
        assertArrayEquals(new double[] {3, -4, 1L << 40, 7}, a.data());
        assertArrayEquals(new long[] {2, 2}, a.shape());
        Path i4 = dir.resolve("ids4.npy");
        Files.write(i4, npyBytes("<i4", new long[] {3}, new double[] {1, -2, 3}));
        assertArrayEquals(new double[] {1, -2, 3}, Npy.read(i4).data());

        Path st = dir.resolve("ids.safetensors");
        Files.write(st, safetensorsBytes("ids", "I64", new long[] {2, 3}, new double[] {0, 1, 2, 3, 4, 5}));
        HostArray t = SafeTensors.read(st).get("ids");
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, t.data());

        Path u1 = dir.resolve("bytes.npy");
        Files.write(u1, npyBytes("|u1", new long[] {2}, new double[] {1, 2}));
        IOException e = assertThrows(IOException.class, () -> Npy.read(u1));
        assertTrue(e.getMessage().contains("unsupported dtype '|u1'"), e.getMessage());
    }

    private void assertMessage(Path file, String fragment) {
        IOException e = assertThrows(IOException.class, () -> Npz.names(file));
        assertTrue(e.getMessage().contains(fragment) && e.getMessage().contains(file.getFileName().toString()),
                e.getMessage());
    }

    private Path zip(String name, Map<String, byte[]> entries, boolean deflate) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setLevel(deflate ? 9 : 0);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        Path file = dir.resolve(name);
        Files.write(file, bytes.toByteArray());
        return file;
    }

    /**
     * A .npy file written by hand following NumPy's format description (version 1.0, header padded
     * to 64 bytes), for the element types {@code <f4 <f8 <i4 <i8 |u1}.
     */
    static byte[] npyBytes(String descr, long[] shape, double[] values) {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': ("
                + (shape.length == 1 ? shape[0] + "," : dims.substring(0, Math.max(0, dims.length() - 2))) + "), }";
        int unpadded = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        int width = descr.equals("|u1") ? 1 : descr.endsWith("4") ? 4 : 8;
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        bb.putShort((short) header.length());
        bb.put(header.getBytes(StandardCharsets.US_ASCII));
        for (double v : values) {
            switch (descr) {
                case "<f4" -> bb.putFloat((float) v);
                case "<f8" -> bb.putDouble(v);
                case "<i4" -> bb.putInt((int) v);
                case "<i8" -> bb.putLong((long) v);
                default -> bb.put((byte) v);
            }
        }
        return bb.array();
    }

    /** A one-tensor safetensors file written by hand following the format description. */
    static byte[] safetensorsBytes(String name, String dtype, long[] shape, double[] values) {
        int width = dtype.endsWith("32") ? 4 : 8;
        StringBuilder dims = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            dims.append(i == 0 ? "" : ",").append(shape[i]);
        }
        String header = "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + dims + "],\"data_offsets\":[0,"
                + values.length * width + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + h.length + values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(h.length).put(h);
        for (double v : values) {
            switch (dtype) {
                case "F32" -> bb.putFloat((float) v);
                case "F64" -> bb.putDouble(v);
                case "I32" -> bb.putInt((int) v);
                default -> bb.putLong((long) v);
            }
        }
        return bb.array();
    }
}
