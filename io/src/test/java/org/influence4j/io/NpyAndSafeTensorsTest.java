package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.influence4j.api.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyAndSafeTensorsTest {

    @TempDir
    Path dir;

    @Test
    void npyFollowsTheFormatSpecification() throws IOException {
        Path f = dir.resolve("a.npy");
        double[] data = {1, 2, 3, 4, 5, 6};
        Npy.write(f, new HostArray(data, new long[] {2, 3}, DType.FLOAT64));
        byte[] bytes = Files.readAllBytes(f);
        // independent reading of the header, following numpy's format rules
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, bytes[6]);
        int headerLen = (bytes[8] & 0xff) | ((bytes[9] & 0xff) << 8);
        assertEquals(0, (10 + headerLen) % 64, "data must start at a multiple of 64");
        String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'descr': '<f8'"), header);
        assertTrue(header.contains("'fortran_order': False"), header);
        assertTrue(header.contains("'shape': (2, 3)"), header);
        assertTrue(header.endsWith("\n"));
        ByteBuffer bb = ByteBuffer.wrap(bytes, 10 + headerLen, 48).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : data) {
            assertEquals(v, bb.getDouble());
        }
        HostArray back = Npy.read(f);
        assertArrayEquals(data, back.data());
        assertArrayEquals(new long[] {2, 3}, back.shape());
    }

    @Test
    void npyVectorAndFloat32() throws IOException {
        Path f = dir.resolve("v.npy");
        Npy.write(f, new HostArray(new double[] {0.5, -1.25}, new long[] {2}, DType.FLOAT32));
        String header = new String(Files.readAllBytes(f), 10, 60, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'shape': (2,)"), header);
        assertTrue(header.contains("'<f4'"), header);
        HostArray back = Npy.read(f);
        assertEquals(DType.FLOAT32, back.dtype());
        assertArrayEquals(new double[] {0.5, -1.25}, back.data());
    }

    @Test
    void npyRejectsGarbage() throws IOException {
        Path f = dir.resolve("bad.npy");
        Files.writeString(f, "hello");
        IOException e = assertThrows(IOException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains("bad.npy"), e.getMessage());
    }

    @Test
    void safetensorsRoundTripAndLayout() throws IOException {
        Path f = dir.resolve("p.safetensors");
        Map<String, HostArray> t = new LinkedHashMap<>();
        t.put("0.weight", new HostArray(new double[] {1, 2, 3, 4, 5, 6}, new long[] {2, 3}, DType.FLOAT32));
        t.put("0.bias", new HostArray(new double[] {7, 8}, new long[] {2}, DType.FLOAT32));
        SafeTensors.write(f, t, Map.of("learning_rate", "0.1"));
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8).trim();
        Map<?, ?> h = (Map<?, ?>) Json.parse(header);
        assertEquals(Map.of("learning_rate", "0.1"), h.get("__metadata__"));
        assertEquals(java.util.List.of(0L, 24L), ((Map<?, ?>) h.get("0.weight")).get("data_offsets"));
        assertEquals(java.util.List.of(24L, 32L), ((Map<?, ?>) h.get("0.bias")).get("data_offsets"));
        assertEquals(8 + n + 32, bytes.length);
        Map<String, HostArray> back = SafeTensors.read(f);
        assertEquals(java.util.List.of("0.weight", "0.bias"), java.util.List.copyOf(back.keySet()));
        assertArrayEquals(new double[] {7, 8}, back.get("0.bias").data());
    }

    @Test
    void failedWriteLeavesNothing() {
        Path f = dir.resolve("x.npy");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(1);
            throw new IOException("disk full");
        }));
        assertTrue(!Files.exists(f));
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count(), "no temporary file may be left behind");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Arrays keep their element type through a round trip: float32 is read into {@code float[]},
     * int64 into {@code long[]} exactly (2^53 + 1 has no double), and both are written back in that
     * type, by .npy and by safetensors.
     */
    @Test
    void elementTypesSurviveARoundTrip() throws IOException {
        float[] floats = {0.1f, -2.5f, 3e-8f, Float.MAX_VALUE};
        long big = (1L << 53) + 1;
        long[] longs = {big, -7, 0};
        Path f32 = dir.resolve("f32.npy");
        Path i64 = dir.resolve("i64.npy");
        Npy.write(f32, HostArray.ofFloats(floats, 2, 2));
        Npy.write(i64, HostArray.ofLongs(longs, DType.FLOAT64, 3));
        HostArray readFloats = Npy.read(f32);
        assertEquals(HostArray.Storage.FLOAT32, readFloats.storage());
        assertArrayEquals(floats, readFloats.floats());
        assertArrayEquals(new long[] {2, 2}, readFloats.shape());
        HostArray readLongs = Npy.read(i64);
        assertEquals(HostArray.Storage.INT64, readLongs.storage());
        assertArrayEquals(longs, readLongs.longs());
        assertTrue(new String(Files.readAllBytes(i64), StandardCharsets.ISO_8859_1).contains("'descr': '<i8'"));

        Path st = dir.resolve("typed.safetensors");
        Map<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("f", HostArray.ofFloats(floats, 4));
        tensors.put("i", HostArray.ofLongs(longs, DType.FLOAT64, 3));
        SafeTensors.write(st, tensors, Map.of());
        Map<String, HostArray> back = SafeTensors.read(st);
        assertEquals(HostArray.Storage.FLOAT32, back.get("f").storage());
        assertArrayEquals(floats, back.get("f").floats());
        assertEquals(HostArray.Storage.INT64, back.get("i").storage());
        assertArrayEquals(longs, back.get("i").longs());
        assertEquals(16 + 24, Files.size(st) - 8 - ByteBuffer.wrap(Files.readAllBytes(st), 0, 8)
                .order(ByteOrder.LITTLE_ENDIAN).getLong(), "4 floats and 3 longs, no widening");
    }
}
