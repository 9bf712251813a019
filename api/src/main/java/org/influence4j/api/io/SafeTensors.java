package org.influence4j.api.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.DType;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * mapping tensor names to {@code dtype}, {@code shape} and {@code data_offsets}, an optional
 * {@code __metadata__} string map, then the raw little-endian data. Written tensors are
 * {@code F32}/{@code F64}; reading also accepts {@code I32}/{@code I64} (e.g. token ids or labels),
 * returned as doubles (exact up to 2^53) with {@link HostArray#dtype()} {@code FLOAT32} for 4-byte
 * and {@code FLOAT64} for 8-byte elements. Tensors are written in map order with contiguous offsets; readers return them ordered by
 * their data offsets (the order in which influence4j wrote them).
 */
public final class SafeTensors {

    private static final String METADATA = "__metadata__";

    private SafeTensors() {
    }

    /**
     * Writes named tensors atomically.
     *
     * @param tensors  name -> array, in the order to write
     * @param metadata free-form string metadata (may be empty)
     */
    public static void write(Path file, Map<String, HostArray> tensors, Map<String, String> metadata)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put(METADATA, new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, HostArray> e : tensors.entrySet()) {
            HostArray a = e.getValue();
            long len = (long) a.data().length * a.dtype().bytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", a.dtype() == DType.FLOAT32 ? "F32" : "F64");
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
                Npy.writeData(out, a.data(), a.dtype());
            }
        });
    }

    /**
     * Reads all tensors of a safetensors file.
     *
     * @return name -> array, ordered by data offset
     * @throws IOException naming the file and what is wrong with it
     */
    public static Map<String, HostArray> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) {
            throw new IOException(file + ": not a safetensors file (shorter than 8 bytes)");
        }
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = bb.getLong();
        if (headerLen <= 0 || headerLen > all.length - 8) {
            throw new IOException(file + ": not a safetensors file (header length " + headerLen + ")");
        }
        Object parsed;
        try {
            parsed = Json.parse(new String(all, 8, (int) headerLen, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad safetensors header: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map<?, ?> header)) {
            throw new IOException(file + ": safetensors header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        List<Map.Entry<String, Map<?, ?>>> entries = new java.util.ArrayList<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            if (!METADATA.equals(e.getKey())) {
                if (!(e.getValue() instanceof Map<?, ?> info)) {
                    throw new IOException(file + ": entry '" + e.getKey() + "' is not an object");
                }
                entries.add(Map.entry((String) e.getKey(), info));
            }
        }
        entries.sort(java.util.Comparator.comparingLong(e -> offsets(e.getValue())[0]));
        Map<String, HostArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<?, ?>> e : entries) {
            Map<?, ?> info = e.getValue();
            String dt = String.valueOf(info.get("dtype"));
            int width;
            switch (dt) {
                case "F32", "I32" -> width = 4;
                case "F64", "I64" -> width = 8;
                default -> throw new IOException(file + ": tensor '" + e.getKey() + "' has unsupported dtype " + dt
                        + "; use F32, F64, I32 or I64");
            }
            DType dtype = width == 4 ? DType.FLOAT32 : DType.FLOAT64;
            long[] shape = ((List<?>) info.get("shape")).stream().mapToLong(o -> ((Number) o).longValue()).toArray();
            long[] off = offsets(info);
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (off[0] < 0 || off[1] - off[0] != n * width || dataStart + off[1] > all.length) {
                throw new IOException(file + ": tensor '" + e.getKey() + "' has inconsistent data_offsets "
                        + off[0] + ".." + off[1] + " for shape " + java.util.Arrays.toString(shape));
            }
            ByteBuffer data = ByteBuffer.wrap(all, (int) (dataStart + off[0]), (int) (off[1] - off[0]))
                    .order(ByteOrder.LITTLE_ENDIAN);
            double[] values = new double[(int) n];
            for (int i = 0; i < n; i++) {
                values[i] = switch (dt) {
                    case "F32" -> data.getFloat();
                    case "F64" -> data.getDouble();
                    case "I32" -> data.getInt();
                    default -> data.getLong();
                };
            }
            out.put(e.getKey(), new HostArray(values, shape, dtype));
        }
        return out;
    }

    private static long[] offsets(Map<?, ?> info) {
        Object o = info.get("data_offsets");
        if (!(o instanceof List<?> l) || l.size() != 2) {
            throw new IllegalArgumentException("safetensors: missing data_offsets");
        }
        return new long[] {((Number) l.get(0)).longValue(), ((Number) l.get(1)).longValue()};
    }
}
