package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile files of issue 14, one by one: each reader refuses them with its documented exception
 * ({@link IOException} for files, {@link IllegalArgumentException} for JSON text) and a one-line
 * message naming the file and the field — never a {@link StackOverflowError}, an
 * {@link OutOfMemoryError}, a {@link NullPointerException}, an {@link IndexOutOfBoundsException}, a
 * {@link ClassCastException} or a raw {@link NumberFormatException} message.
 */
class HostileFilesTest {

    @TempDir
    Path dir;

    /** Runs {@code reading}, which must throw exactly {@code type} with a one-line message holding every fragment. */
    static <T extends Throwable> T refused(Class<T> type, Executable reading, String... fragments) {
        Throwable thrown;
        try {
            reading.execute();
            throw new AssertionError("expected " + type.getSimpleName() + " but the input was accepted");
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown instanceof AssertionError a) {
            throw a;
        }
        if (thrown.getClass() != type) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + thrown, thrown);
        }
        String message = thrown.getMessage();
        assertTrue(message != null && !message.isBlank(), "no message");
        assertFalse(message.contains("\n") || message.contains("\r"), "message must be one line: " + message);
        for (String forbidden : new String[] {"For input string", "Cannot invoke", "cannot be cast", "Index ",
                "out of bounds", "Exception", "Error"}) {
            assertFalse(message.contains(forbidden), "raw message '" + forbidden + "': " + message);
        }
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "message must contain '" + fragment + "': " + message);
        }
        return type.cast(thrown);
    }

    static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(h.length).put(h);
        return bb.array();
    }

    static byte[] npyV2(int headerLength, String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer bb = ByteBuffer.allocate(12 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(headerLength).put(h);
        return bb.array();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    // --- JSON (model specs, safetensors headers) ---

    @Test
    void deeplyNestedJsonIsRefusedWithoutStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        refused(IllegalArgumentException.class, () -> Json.parse(deep), "json:", "nested deeper than "
                + Json.MAX_DEPTH);
        String deepObject = "{\"a\":".repeat(50_000) + "1" + "}".repeat(50_000);
        refused(IllegalArgumentException.class, () -> Json.parse(deepObject), "nested deeper than");
        // the deepest documents influence4j writes are 4 levels deep; the limit leaves room
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Json.parse(ok);
    }

    @Test
    void badUnicodeEscapesNonFiniteAndOutOfRangeNumbersAreNamed() {
        refused(IllegalArgumentException.class, () -> Json.parse("\"\\uZZZZ\""), "bad unicode escape", "offset");
        refused(IllegalArgumentException.class, () -> Json.parse("[1e999]"), "not a finite number", "1e999");
        refused(IllegalArgumentException.class, () -> Json.parse("[99999999999999999999]"),
                "does not fit in 64 bits", "99999999999999999999");
    }

    @Test
    void deeplyNestedSpecIsRefused() throws IOException {
        String spec = "{\"inputDim\": 2, \"layers\": " + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        refused(IllegalArgumentException.class, () -> ModelSpec.fromJson(spec), "json:", "nested deeper");
        Path file = write("deep.json", spec.getBytes(StandardCharsets.UTF_8));
        refused(IOException.class, () -> ModelSpec.read(file), file.toString(), "nested deeper");
    }

    @Test
    void specWhoseParameterCountOverflowsIsRefusedWhenRead() {
        String spec = "{\"inputDim\": 2147483647, \"layers\": [{\"type\": \"dense\", \"units\": 2147483647}],"
                + " \"loss\": \"mse\"}";
        refused(IllegalArgumentException.class, () -> ModelSpec.fromJson(spec), "layers", "parameters");
        String graph = "{\"format\": 2, \"input\": {\"shape\": [2147483647]}, \"layers\": [{\"op\": \"dense\","
                + " \"in_features\": 2147483647, \"out_features\": 2147483647}], \"loss\": \"mse\"}";
        refused(IllegalArgumentException.class, () -> ModelSpec.fromJson(graph), "node '0'", "parameters");
        String flatten = "{\"format\": 2, \"input\": {\"shape\": [2147483647, 2147483647, 2147483647]},"
                + " \"layers\": [{\"op\": \"flatten\"}, {\"op\": \"dense\", \"in_features\": 1, \"out_features\": 1}],"
                + " \"loss\": \"mse\"}";
        refused(IllegalArgumentException.class, () -> ModelSpec.fromJson(flatten), "input.shape", "2^31");
    }

    @Test
    void specFileThatIsNotUtf8IsNamed() throws IOException {
        Path file = write("latin1.json", new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        refused(IOException.class, () -> ModelSpec.read(file), file.toString(), "UTF-8");
    }

    // --- safetensors ---

    @Test
    void deeplyNestedSafetensorsHeaderIsRefused() throws IOException {
        Path file = write("deep.safetensors", safetensors("{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000)
                + "}", 0));
        refused(IOException.class, () -> SafeTensors.read(file), file.toString(), "nested deeper");
    }

    @Test
    void negativeSafetensorsOffsetsAreRefused() throws IOException {
        // consistent with its shape: a "length" of -8 bytes for a shape of -1 elements
        Path file = write("negative.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[-1],\"data_offsets\":[8,0]}}", 16));
        refused(IOException.class, () -> SafeTensors.read(file), file.toString(), "'w'", "shape");
        Path before = write("before.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[-8,0]}}", 16));
        refused(IOException.class, () -> SafeTensors.read(before), before.toString(), "'w'", "data_offsets");
    }

    @Test
    void safetensorsHeaderWithoutShapeOrWithABadShapeIsRefused() throws IOException {
        Path noShape = write("noshape.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"data_offsets\":[0,8]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(noShape), noShape.toString(), "'w'", "shape");
        Path badShape = write("badshape.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[\"abc\"],\"data_offsets\":[0,8]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(badShape), badShape.toString(), "'w'", "shape");
        Path fraction = write("fraction.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(fraction), fraction.toString(), "'w'", "shape");
        Path noOffsets = write("nooffsets.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[1]},\"v\":{\"dtype\":\"F64\",\"shape\":[1],"
                        + "\"data_offsets\":[0,8]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(noOffsets), noOffsets.toString(), "'w'", "data_offsets");
        Path entryNotObject = write("entry.safetensors", safetensors("{\"w\":[1,2]}", 0));
        refused(IOException.class, () -> SafeTensors.read(entryNotObject), entryNotObject.toString(), "'w'");
    }

    @Test
    void safetensorsElementCountsThatOverflowAreRefused() throws IOException {
        // 2^62 + 1 four-byte elements: the byte count overflows to 4, which the offsets "match"
        Path file = write("overflow.safetensors", safetensors(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387905],\"data_offsets\":[0,4]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(file), file.toString(), "'w'", "shape");
    }

    @Test
    void overlappingOrOutOfRangeSafetensorsOffsetsAreRefused() throws IOException {
        Path overlap = write("overlap.safetensors", safetensors(
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}", 16));
        refused(IOException.class, () -> SafeTensors.read(overlap), overlap.toString(), "overlap");
        Path beyond = write("beyond.safetensors", safetensors(
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8));
        refused(IOException.class, () -> SafeTensors.read(beyond), beyond.toString(), "'a'", "data_offsets");
        Path huge = write("huge.safetensors", safetensors(
                "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[9223372036854775800,9223372036854775807]}}",
                8));
        refused(IOException.class, () -> SafeTensors.read(huge), huge.toString(), "'a'", "data_offsets");
    }

    @Test
    void safetensorsHeaderLengthsOutOfRangeAreRefused() throws IOException {
        byte[] negative = safetensors("{}", 0);
        ByteBuffer.wrap(negative).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5);
        Path file = write("negative-length.safetensors", negative);
        refused(IOException.class, () -> SafeTensors.read(file), file.toString(), "header length -5");
        byte[] beyond = safetensors("{}", 0);
        ByteBuffer.wrap(beyond).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        Path file2 = write("beyond-length.safetensors", beyond);
        refused(IOException.class, () -> SafeTensors.read(file2), file2.toString(), "header length");
    }

    @Test
    void safetensorsMetadataMustBeAStringMap() throws IOException {
        Path file = write("meta.safetensors", safetensors("{\"__metadata__\":{\"a\":[1]}}", 0));
        refused(IOException.class, () -> SafeTensors.read(file), file.toString(), "__metadata__");
        Path ok = write("meta-ok.safetensors", safetensors("{\"__metadata__\":{\"a\":\"1\"}}", 0));
        assertEquals(0, SafeTensors.read(ok).size());
        assertEquals(java.util.Map.of("a", "1"), SafeTensors.readMetadata(ok));
    }

    // --- .npy ---

    @Test
    void npyHeaderLengthsOutOfRangeAreRefusedBeforeAllocating() throws IOException {
        Path big = write("big.npy", npyV2(Integer.MAX_VALUE,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 24));
        refused(IOException.class, () -> Npy.read(big), big.toString(), "header length 2147483647");
        Path negative = write("negative.npy", npyV2(-5, "{}", 0));
        refused(IOException.class, () -> Npy.read(negative), negative.toString(), "header length");
    }

    @Test
    void npyShapeTextIsChecked() throws IOException {
        String[] shapes = {"(abc,)", "(-1,)", "(99999999999999999999,)", "(4611686018427387905, 4)", "(1 2,)"};
        for (String shape : shapes) {
            Path file = write("shape.npy", npyV2(60, String.format("%-59s\n",
                    "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }"), 8));
            refused(IOException.class, () -> Npy.read(file), file.toString(), "shape");
        }
    }

    // --- IDX ---

    @Test
    void idxHeaderAnnouncingMoreValuesThanTheFileHoldsIsRefusedBeforeAllocating() throws IOException {
        // 65 535 x 32 767 bytes (2 GiB) announced, 16 present: refused from the file size, no 2 GiB array
        ByteBuffer bb = ByteBuffer.allocate(4 + 8 + 16);
        bb.putInt(0x00000802).putInt(65_535).putInt(32_767).put(new byte[16]);
        Path raw = write("big-idx1-ubyte", bb.array());
        refused(IOException.class, () -> Idx.read(raw, Integer.MAX_VALUE), raw.toString(), "truncated");
        // gzip: the size is unknown in advance; the reader grows its buffer only as data arrives
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(bb.array());
        }
        Path packed = write("big-idx1-ubyte.gz", gz.toByteArray());
        refused(IOException.class, () -> Idx.read(packed, Integer.MAX_VALUE), packed.toString(), "truncated");
    }

    @Test
    void idxWithTrailingBytesOrABadGzipStreamIsRefused() throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(4 + 4 + 3 + 1);
        bb.putInt(0x00000801).putInt(3).put(new byte[] {1, 2, 3, 4});
        Path trailing = write("trailing-idx1-ubyte", bb.array());
        refused(IOException.class, () -> Idx.read(trailing, 10), trailing.toString(), "after the");
        Path notGzip = write("bad-idx1-ubyte.gz", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0});
        refused(IOException.class, () -> Idx.read(notGzip, 10), notGzip.toString());
    }
}
