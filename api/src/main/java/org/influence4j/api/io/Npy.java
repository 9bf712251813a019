package org.influence4j.api.io;

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
 * Reading also accepts format 2.0/3.0 headers and {@code <f4}, {@code <f8}, {@code <i4}, {@code <i8}.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** Writes {@code array} atomically to {@code file} in its dtype. */
    public static void write(Path file, HostArray array) throws IOException {
        AtomicFiles.write(file, out -> {
            StringBuilder shape = new StringBuilder("(");
            long[] dims = array.shape();
            for (int i = 0; i < dims.length; i++) {
                shape.append(dims[i]);
                if (dims.length == 1 || i < dims.length - 1) {
                    shape.append(dims.length == 1 ? "," : ", ");
                }
            }
            shape.append(')');
            String descr = array.dtype() == DType.FLOAT32 ? "<f4" : "<f8";
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
            writeData(out, array.data(), array.dtype());
        });
    }

    static void writeData(java.io.OutputStream out, double[] data, DType dtype) throws IOException {
        int chunk = 8192;
        ByteBuffer buf = ByteBuffer.allocate(chunk * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int start = 0; start < data.length; start += chunk) {
            buf.clear();
            int end = Math.min(data.length, start + chunk);
            for (int i = start; i < end; i++) {
                if (dtype == DType.FLOAT32) {
                    buf.putFloat((float) data[i]);
                } else {
                    buf.putDouble(data[i]);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /**
     * Reads a {@code .npy} file.
     *
     * @throws IOException naming the file and the problem (bad magic, unsupported dtype, Fortran
     *     order, truncated data)
     */
    public static HostArray read(Path file) throws IOException {
        try (InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(file));
             DataInputStream in = new DataInputStream(raw)) {
            byte[] magic = new byte[6];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException(file + ": not a .npy file (bad magic string)");
            }
            int major = in.readUnsignedByte();
            in.readUnsignedByte();
            int headerLen;
            if (major == 1) {
                headerLen = in.readUnsignedByte() | (in.readUnsignedByte() << 8);
            } else if (major == 2 || major == 3) {
                byte[] b = new byte[4];
                in.readFully(b);
                headerLen = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
            } else {
                throw new IOException(file + ": unsupported .npy format version " + major);
            }
            byte[] hb = new byte[headerLen];
            in.readFully(hb);
            String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            String descr = group(DESCR, header, file, "descr");
            if ("True".equals(group(FORTRAN, header, file, "fortran_order"))) {
                throw new IOException(file + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
            }
            List<Long> dims = new ArrayList<>();
            for (String part : group(SHAPE, header, file, "shape").split(",")) {
                if (!part.isBlank()) {
                    dims.add(Long.parseLong(part.trim()));
                }
            }
            long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            if (n > Integer.MAX_VALUE) {
                throw new IOException(file + ": array of " + n + " elements is too large for one Java array");
            }
            int width;
            switch (descr) {
                case "<f4", "<i4" -> width = 4;
                case "<f8", "<i8" -> width = 8;
                default -> throw new IOException(file + ": unsupported dtype '" + descr
                        + "'; use little-endian float32/float64 (<f4, <f8)");
            }
            byte[] bytes = new byte[(int) n * width];
            try {
                in.readFully(bytes);
            } catch (java.io.EOFException e) {
                throw new IOException(file + ": truncated data, expected " + n + " elements", e);
            }
            ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            double[] data = new double[(int) n];
            for (int i = 0; i < n; i++) {
                data[i] = switch (descr) {
                    case "<f4" -> bb.getFloat();
                    case "<f8" -> bb.getDouble();
                    case "<i4" -> bb.getInt();
                    default -> bb.getLong();
                };
            }
            DType dtype = descr.equals("<f4") || descr.equals("<i4") ? DType.FLOAT32 : DType.FLOAT64;
            return new HostArray(data, shape, dtype);
        } catch (java.io.EOFException e) {
            throw new IOException(file + ": truncated .npy header", e);
        }
    }

    private static String group(Pattern p, String header, Path file, String key) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": .npy header has no '" + key + "' entry: " + header.trim());
        }
        return m.group(1);
    }
}
