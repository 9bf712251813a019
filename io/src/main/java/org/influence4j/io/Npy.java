package org.influence4j.io;

import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.DType;

/**
 * NumPy {@code .npy} files (format version 1.0): little-endian {@code <f4}/{@code <f8}, C order.
 * The header is padded so that the data starts at a multiple of 64 bytes, as NumPy writes it.
 * Reading also accepts format 2.0/3.0 headers and {@code <f4}, {@code <f8}, {@code <i4}, {@code <i8}
 * (read into {@code long[]} storage; their {@link HostArray#dtype()} is {@code FLOAT32} for 4-byte
 * and {@code FLOAT64} for 8-byte elements), from a file or from a stream such as an {@link Npz} entry.
 * Values keep their type on the heap: float32 as {@code float[]}, float64 as {@code double[]} (see
 * {@link HostArray.Storage}). Integer arrays are written as {@code <i8}.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Longest header read; NumPy's own limit for untrusted files is 10 000 bytes. */
    private static final long MAX_HEADER = 1 << 16;
    /** Most elements of one array: the largest Java array. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private Npy() {
    }

    /** Writes {@code array} atomically to {@code file} in its dtype. */
    public static void write(Path file, HostArray array) throws IOException {
        AtomicFiles.write(file, out -> write(out, array));
    }

    /** Writes {@code array} as {@code .npy} bytes to {@code out} (not closed), e.g. into an {@link Npz} entry. */
    static void write(java.io.OutputStream out, HostArray array) throws IOException {
        StringBuilder shape = new StringBuilder("(");
        long[] dims = array.shape();
        for (int i = 0; i < dims.length; i++) {
            shape.append(dims[i]);
            if (dims.length == 1 || i < dims.length - 1) {
                shape.append(dims.length == 1 ? "," : ", ");
            }
        }
        shape.append(')');
        String descr = array.storage() == HostArray.Storage.INT64 ? "<i8" : array.dtype() == DType.FLOAT32 ? "<f4"
                : "<f8";
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padded = ((unpadded + 63) / 64) * 64;
        StringBuilder header = new StringBuilder(dict);
        header.append(" ".repeat(padded - unpadded)).append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        out.write(MAGIC);
        out.write(1);
        out.write(0);
        out.write(h.length & 0xff);
        out.write((h.length >> 8) & 0xff);
        out.write(h);
        writeData(out, array);
    }

    /**
     * Writes the values little-endian: integers as int64, floats in {@link HostArray#dtype()} (float32
     * storage is written as it is; float64 storage rounded to float32 when the dtype says so).
     */
    static void writeData(java.io.OutputStream out, HostArray array) throws IOException {
        int chunk = 8192;
        boolean ints = array.storage() == HostArray.Storage.INT64;
        boolean narrow = !ints && array.dtype() == DType.FLOAT32;
        ByteBuffer buf = ByteBuffer.allocate(chunk * (narrow ? Float.BYTES : Long.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        int n = array.size();
        double[] doubles = array.storage() == HostArray.Storage.FLOAT64 ? array.doubles() : null;
        float[] floats = array.storage() == HostArray.Storage.FLOAT32 ? array.floats() : null;
        long[] longs = ints ? array.longs() : null;
        for (int start = 0; start < n; start += chunk) {
            buf.clear();
            int end = Math.min(n, start + chunk);
            for (int i = start; i < end; i++) {
                if (ints) {
                    buf.putLong(longs[i]);
                } else if (narrow) {
                    buf.putFloat(floats != null ? floats[i] : (float) doubles[i]);
                } else {
                    buf.putDouble(floats != null ? floats[i] : doubles[i]);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /**
     * Reads a {@code .npy} file.
     *
     * @throws IOException naming the file and the problem (bad magic, unsupported dtype, Fortran
     *     order, a shape larger than the file, truncated data)
     */
    public static HostArray read(Path file) throws IOException {
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            return read(in, file.toString(), Files.size(file));
        }
    }

    /**
     * Reads one {@code .npy} array from a stream (e.g. an entry of an {@code .npz} archive). The
     * header's shape is checked against {@code size} before any data is allocated, so a corrupt or
     * hostile header cannot make the reader allocate more than the stream holds.
     *
     * @param in     the stream, positioned at the magic string; not closed
     * @param source the file (and entry) named in error messages
     * @param size   the number of bytes the array may occupy, header included
     * @throws IOException naming {@code source} and the problem
     */
    public static HostArray read(InputStream in, String source, long size) throws IOException {
        DataInputStream data = new DataInputStream(in);
        try {
            byte[] magic = new byte[6];
            data.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException(source + ": not a .npy file (bad magic string)");
            }
            int major = data.readUnsignedByte();
            data.readUnsignedByte();
            long headerLen;
            int prefix;
            if (major == 1) {
                headerLen = data.readUnsignedByte() | (data.readUnsignedByte() << 8);
                prefix = 10;
            } else if (major == 2 || major == 3) {
                byte[] b = new byte[4];
                data.readFully(b);
                headerLen = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
                prefix = 12;
            } else {
                throw new IOException(source + ": unsupported .npy format version " + major);
            }
            if (headerLen > MAX_HEADER || prefix + headerLen > size) {
                throw new IOException(source + ": .npy header length " + headerLen + " does not fit the "
                        + size + " bytes of the array");
            }
            byte[] hb = new byte[(int) headerLen];
            data.readFully(hb);
            String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, header, source, "descr");
            if ("True".equals(group(FORTRAN, header, source, "fortran_order"))) {
                throw new IOException(source + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
            }
            String shapeText = group(SHAPE, header, source, "shape");
            List<Long> dims = new ArrayList<>();
            String[] parts = shapeText.split(",", -1);
            for (int i = 0; i < parts.length; i++) {
                String part = parts[i].trim();
                if (part.isEmpty() && (i == parts.length - 1 || parts.length == 1)) {
                    continue; // "(3,)" and "()"
                }
                if (!part.matches("[0-9]{1,18}")) {
                    throw new IOException(source + ": bad .npy shape entry '" + Json.oneLine(part, 40) + "' in ("
                            + Json.oneLine(shapeText, 80) + "); dimensions are non-negative integers below 10^18");
                }
                dims.add(Long.parseLong(part));
            }
            long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
            int width;
            switch (descr) {
                case "<f4", "<i4" -> width = 4;
                case "<f8", "<i8" -> width = 8;
                default -> throw new IOException(source + ": unsupported dtype '" + Json.oneLine(descr, 40)
                        + "'; use little-endian float32, float64, int32 or int64 (<f4, <f8, <i4, <i8)");
            }
            long n = 1;
            for (long d : shape) {
                n = d == 0 || n == 0 ? 0 : n > MAX_ELEMENTS / d ? MAX_ELEMENTS + 1 : n * d;
            }
            if (n > MAX_ELEMENTS) {
                throw new IOException(source + ": .npy shape " + dims + " has more elements than one Java array"
                        + " holds (" + MAX_ELEMENTS + ")");
            }
            long heapBytes = n * (descr.equals("<f4") ? Float.BYTES : Long.BYTES);
            if (heapBytes > Runtime.getRuntime().maxMemory()) {
                throw new IOException(source + ": array of shape " + dims + " needs " + heapBytes
                        + " bytes of heap, more than the Java heap's maximum (raise -Xmx)");
            }
            long available = size - prefix - headerLen;
            if (n * width > available) {
                throw new IOException(source + ": truncated data, shape " + dims + " needs " + n * width
                        + " bytes but " + available + " follow the header");
            }
            // float32 stays float[], float64 double[], int32/int64 long[] (see HostArray)
            float[] floats = descr.equals("<f4") ? new float[(int) n] : null;
            double[] doubles = descr.equals("<f8") ? new double[(int) n] : null;
            long[] longs = floats == null && doubles == null ? new long[(int) n] : null;
            byte[] chunk = new byte[(int) Math.min(n * width, 1 << 16)];
            ByteBuffer bb = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
            int perChunk = chunk.length / width;
            for (int start = 0; start < n; start += perChunk) {
                int count = (int) Math.min(perChunk, n - start);
                try {
                    data.readFully(chunk, 0, count * width);
                } catch (java.io.EOFException e) {
                    throw new IOException(source + ": truncated data, expected " + n + " elements", e);
                }
                bb.clear();
                switch (descr) {
                    case "<f4" -> bb.asFloatBuffer().get(floats, start, count);
                    case "<f8" -> bb.asDoubleBuffer().get(doubles, start, count);
                    case "<i4" -> {
                        for (int i = start; i < start + count; i++) {
                            longs[i] = bb.getInt();
                        }
                    }
                    default -> bb.asLongBuffer().get(longs, start, count);
                }
            }
            return switch (descr) {
                case "<f4" -> HostArray.ofFloats(floats, shape);
                case "<f8" -> new HostArray(doubles, shape, DType.FLOAT64);
                case "<i4" -> HostArray.ofLongs(longs, DType.FLOAT32, shape);
                default -> HostArray.ofLongs(longs, DType.FLOAT64, shape);
            };
        } catch (java.io.EOFException e) {
            throw new IOException(source + ": truncated .npy header", e);
        }
    }

    private static String group(Pattern p, String header, String source, String key) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(source + ": .npy header has no '" + key + "' entry: "
                    + Json.oneLine(header.trim(), 120));
        }
        return m.group(1);
    }
}
