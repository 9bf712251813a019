package org.influence4j.io;

import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * mapping tensor names to {@code dtype}, {@code shape} and {@code data_offsets}, an optional
 * {@code __metadata__} string map, then the raw little-endian data. Written tensors are
 * {@code F32}/{@code F64} (and {@code I64} for integer storage); reading also accepts {@code I32}/{@code I64}
 * (e.g. token ids or labels), read into {@code long[]} storage with {@link HostArray#dtype()}
 * {@code FLOAT32} for 4-byte and {@code FLOAT64} for 8-byte elements. Values keep their type on the
 * heap: {@code F32} as {@code float[]}, {@code F64} as {@code double[]}. Tensors are written in map order with contiguous offsets; readers return them ordered by
 * their data offsets (the order in which influence4j wrote them).
 */
public final class SafeTensors {

    /** Longest header read: 100 MB, the limit of the safetensors reference implementation. */
    public static final long MAX_HEADER = 100_000_000;

    /** Most elements of one tensor: the largest Java array. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final String METADATA = "__metadata__";

    private SafeTensors() {
    }

    /**
     * Writes named tensors atomically.
     *
     * @param tensors  name -> array, in the order to write
     * @param metadata free-form string metadata (may be empty), written in key order so that the file's
     *                 bytes do not depend on the map's iteration order
     */
    public static void write(Path file, Map<String, HostArray> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put(METADATA, new java.util.TreeMap<>(metadata)); // sorted: the same bytes from any map
        }
        long offset = 0;
        for (Map.Entry<String, HostArray> e : tensors.entrySet()) {
            HostArray a = e.getValue();
            boolean ints = a.storage() == HostArray.Storage.INT64;
            long len = (long) a.size() * (ints ? Long.BYTES : a.dtype().bytes());
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", ints ? "I64" : a.dtype() == DType.FLOAT32 ? "F32" : "F64");
            info.put("shape", java.util.Arrays.stream(a.shape()).boxed().toList());
            info.put("data_offsets", List.of(offset, offset + len));
            header.put(e.getKey(), info);
            offset += len;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;
        byte[] padded = new byte[json.length + pad];
        System.arraycopy(json, 0, padded, 0, json.length);
        java.util.Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded.length).array());
            out.write(padded);
            for (HostArray a : tensors.values()) {
                Npy.writeData(out, a);
            }
        });
    }

    /**
     * Reads all tensors of a safetensors file. The header is checked before any tensor is read: its
     * length (at most {@link #MAX_HEADER} bytes, within the file), its JSON (bounded by {@link Json}),
     * every entry's {@code dtype}, {@code shape} (non-negative integers whose product, in bytes, fits in
     * 64 bits and in one Java array) and {@code data_offsets} (two integers {@code 0 ≤ begin ≤ end},
     * {@code end − begin} the bytes of the shape, within the file, no two tensors overlapping), and an
     * optional {@code __metadata__} object of strings. Data is read tensor by tensor, so files larger
     * than 2 GiB are read as long as each tensor fits in a Java array.
     *
     * @return name -> array, ordered by data offset
     * @throws IOException with a one-line message naming the file, the tensor and the field for every
     *     problem above, or when the file cannot be read
     */
    public static Map<String, HostArray> read(Path file) throws IOException {
        try (FileChannel channel = open(file)) {
            Header header = header(channel, file);
            Map<String, HostArray> out = new LinkedHashMap<>();
            for (Entry e : header.entries()) {
                out.put(e.name(), data(channel, file, header.dataStart(), e));
            }
            return out;
        }
    }

    /**
     * Reads the {@code __metadata__} string map of a safetensors file, checking the whole header as
     * {@link #read} does but reading no tensor data.
     *
     * @return key -> value, in header order; empty when the file has no metadata
     * @throws IOException as {@link #read}
     */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (FileChannel channel = open(file)) {
            return header(channel, file).metadata();
        }
    }

    /** One tensor of a header: name, dtype name, element width, shape, element count and byte range. */
    private record Entry(String name, String dtype, int width, long[] shape, long count, long begin, long end) {
    }

    /** A checked header: tensors ordered by offset, metadata, and where the data starts. */
    private record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "safetensors file does not exist");
        }
    }

    private static Header header(FileChannel channel, Path file) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new IOException(file + ": not a safetensors file (shorter than 8 bytes)");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, 0, file);
        long headerLen = prefix.flip().getLong();
        if (headerLen <= 0 || headerLen > size - 8) {
            throw new IOException(file + ": not a safetensors file (header length " + headerLen + " does not fit the "
                    + size + " bytes of the file)");
        }
        if (headerLen > MAX_HEADER) {
            throw new IOException(file + ": safetensors header length " + headerLen + " is more than the "
                    + MAX_HEADER + " bytes read");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) headerLen);
        readFully(channel, bytes, 8, file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(bytes.flip()).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": bad safetensors header: not UTF-8 text", e);
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad safetensors header: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> root)) {
            throw new IOException(file + ": safetensors header is not a JSON object");
        }
        long dataBytes = size - 8 - headerLen;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String name = (String) e.getKey();
            if (METADATA.equals(name)) {
                if (!(e.getValue() instanceof Map<?, ?> m)) {
                    throw new IOException(file + ": __metadata__ must be an object of strings, got "
                            + Json.oneLine(Json.write(e.getValue()), 80));
                }
                for (Map.Entry<?, ?> kv : m.entrySet()) {
                    if (!(kv.getValue() instanceof String value)) {
                        throw new IOException(file + ": __metadata__." + Json.oneLine((String) kv.getKey(), 80)
                                + " must be a string, got " + Json.oneLine(Json.write(kv.getValue()), 80));
                    }
                    metadata.put((String) kv.getKey(), value);
                }
            } else {
                entries.add(entry(file, name, e.getValue(), dataBytes));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry previous = null;
        for (Entry e : entries) {
            if (e.begin() == e.end()) {
                continue;
            }
            if (previous != null && e.begin() < previous.end()) {
                throw new IOException(file + ": tensors '" + Json.oneLine(previous.name(), 80) + "' (data_offsets ["
                        + previous.begin() + ", " + previous.end() + "]) and '" + Json.oneLine(e.name(), 80)
                        + "' ([" + e.begin() + ", " + e.end() + "]) overlap; every tensor needs bytes of its own");
            }
            previous = e;
        }
        return new Header(List.copyOf(entries), metadata, 8 + headerLen);
    }

    private static Entry entry(Path file, String name, Object value, long dataBytes) throws IOException {
        String where = file + ": tensor '" + Json.oneLine(name, 80) + "'";
        if (!(value instanceof Map<?, ?> info)) {
            throw new IOException(where + " is not an object {\"dtype\", \"shape\", \"data_offsets\"}");
        }
        Object dt = info.get("dtype");
        int width;
        if ("F32".equals(dt) || "I32".equals(dt)) {
            width = 4;
        } else if ("F64".equals(dt) || "I64".equals(dt)) {
            width = 8;
        } else {
            throw new IOException(where + " has unsupported dtype " + Json.oneLine(Json.write(dt), 40)
                    + "; use F32, F64, I32 or I64");
        }
        if (!(info.get("shape") instanceof List<?> dims)) {
            throw new IOException(where + ": shape must be an array of non-negative integers, got "
                    + Json.oneLine(Json.write(info.get("shape")), 80));
        }
        long[] shape = new long[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw new IOException(where + ": shape must be an array of non-negative integers, got "
                        + Json.oneLine(Json.write(dims), 80));
            }
            shape[i] = d;
        }
        long bytes;
        try {
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            bytes = Math.multiplyExact(count, width);
        } catch (ArithmeticException e) {
            throw new IOException(where + ": shape " + Arrays.toString(shape) + " has more bytes than fit in 64 bits");
        }
        Object o = info.get("data_offsets");
        if (!(o instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Long begin)
                || !(l.get(1) instanceof Long end)) {
            throw new IOException(where + ": data_offsets must be two integers [begin, end], got "
                    + Json.oneLine(Json.write(o), 80));
        }
        if (begin < 0 || end < begin || end > dataBytes) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] are not a range 0 <= begin"
                    + " <= end <= " + dataBytes + " within the file's data");
        }
        if (end - begin != bytes) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but dtype " + dt + " and shape " + Arrays.toString(shape) + " need " + bytes);
        }
        if (count > MAX_ELEMENTS) {
            throw new IOException(where + ": shape " + Arrays.toString(shape) + " has " + count
                    + " elements, more than one Java array holds");
        }
        return new Entry(name, (String) dt, width, shape, count, begin, end);
    }

    private static HostArray data(FileChannel channel, Path file, long dataStart, Entry e) throws IOException {
        long heapBytes = e.count() * ("F32".equals(e.dtype()) ? Float.BYTES : Long.BYTES);
        if (heapBytes > Runtime.getRuntime().maxMemory()) {
            throw new IOException(file + ": tensor '" + Json.oneLine(e.name(), 80) + "' of shape "
                    + Arrays.toString(e.shape()) + " needs " + heapBytes
                    + " bytes of heap, more than the Java heap's maximum (raise -Xmx)");
        }
        int n = (int) e.count();
        float[] floats = "F32".equals(e.dtype()) ? new float[n] : null;
        double[] doubles = "F64".equals(e.dtype()) ? new double[n] : null;
        long[] longs = floats == null && doubles == null ? new long[n] : null;
        int perChunk = (1 << 16) / e.width();
        ByteBuffer chunk = ByteBuffer.allocate(perChunk * e.width()).order(ByteOrder.LITTLE_ENDIAN);
        long position = dataStart + e.begin();
        for (int start = 0; start < n; start += perChunk) {
            int count = Math.min(perChunk, n - start);
            chunk.clear().limit(count * e.width());
            readFully(channel, chunk, position, file);
            position += (long) count * e.width();
            chunk.flip();
            switch (e.dtype()) {
                case "F32" -> chunk.asFloatBuffer().get(floats, start, count);
                case "F64" -> chunk.asDoubleBuffer().get(doubles, start, count);
                case "I32" -> {
                    for (int i = start; i < start + count; i++) {
                        longs[i] = chunk.getInt();
                    }
                }
                default -> chunk.asLongBuffer().get(longs, start, count);
            }
        }
        return switch (e.dtype()) {
            case "F32" -> HostArray.ofFloats(floats, e.shape());
            case "F64" -> new HostArray(doubles, e.shape(), DType.FLOAT64);
            default -> HostArray.ofLongs(longs, e.width() == 4 ? DType.FLOAT32 : DType.FLOAT64, e.shape());
        };
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file)
            throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException(file + ": truncated safetensors file (it ended at byte " + at + ")");
            }
            at += n;
        }
    }
}
