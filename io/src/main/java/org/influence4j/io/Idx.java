package org.influence4j.io;

import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.Json;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.influence4j.api.DType;

/**
 * Reads IDX files (the format of MNIST and Fashion-MNIST, e.g. Debian's
 * {@code /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}), gzip-compressed when the
 * name ends in {@code .gz}. Only unsigned-byte data (type 0x08) is read: images {@code [n, rows, cols]}
 * and labels {@code [n]}, as doubles 0–255. Bounded against hostile headers: at most 4 dimensions,
 * each positive, at most 2³¹−9 values read, and the data must be exactly as long as the header says
 * (when the first axis is cut at {@code maxItems}, the rest is not read). Nothing is allocated for
 * values the file does not hold: a plain file's size is checked against the header first, and a
 * gzip stream is read into a buffer that grows only as data arrives.
 */
public final class Idx {

    private static final int UNSIGNED_BYTE = 0x08;
    private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

    private Idx() {
    }

    /**
     * @param file an IDX file ({@code .gz} for gzip)
     * @param maxItems read at most this many items (first axis), e.g. a training subset; positive
     * @return the values with the header's shape (first axis cut at {@code maxItems}), dtype float64
     * @throws IOException with a one-line message naming the file when it is missing, not IDX
     *     unsigned-byte data, not a valid gzip stream, truncated, longer than its header says, or too
     *     large for the Java heap
     * @throws IllegalArgumentException if {@code maxItems} is not positive
     */
    public static HostArray read(Path file, int maxItems) throws IOException {
        if (maxItems <= 0) {
            throw new IllegalArgumentException("maxItems: must be positive, got " + maxItems);
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "IDX file does not exist");
        }
        boolean gzip = file.toString().endsWith(".gz");
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = new BufferedInputStream(gzip ? new GZIPInputStream(raw) : raw);
             DataInputStream data = new DataInputStream(in)) {
            int magic = data.readInt();
            int type = (magic >>> 8) & 0xff;
            int rank = magic & 0xff;
            if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || rank < 1 || rank > 4) {
                throw new IOException("IDX file " + file + ": header " + Integer.toHexString(magic)
                        + " is not unsigned-byte IDX data of rank 1 to 4");
            }
            long[] shape = new long[rank];
            long total = 1;
            long announced = 1;
            for (int d = 0; d < rank; d++) {
                int size = data.readInt();
                if (size <= 0) {
                    throw new IOException("IDX file " + file + ": dimension " + d + " is " + size + "; must be positive");
                }
                shape[d] = d == 0 ? Math.min(size, maxItems) : size;
                total *= shape[d];
                announced = announced > Long.MAX_VALUE / size ? Long.MAX_VALUE : announced * size; // saturating
                if (total > MAX_VALUES) {
                    throw new IOException("IDX file " + file + ": " + total + " values are too many to read (at most "
                            + MAX_VALUES + ")");
                }
            }
            long headerBytes = 4 + 4L * rank;
            if (!gzip) {
                long size = Files.size(file);
                if (size - headerBytes < total) {
                    throw truncated(file, total, size - headerBytes);
                }
                if (total == announced && size - headerBytes > announced) {
                    throw trailing(file, announced);
                }
            }
            if (!gzip) {
                checkHeap(file, total);
            }
            byte[] bytes = readValues(data, (int) total, file);
            if (total == announced && data.read() >= 0) {
                throw trailing(file, announced);
            }
            double[] values = new double[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                values[i] = bytes[i] & 0xff;
            }
            return new HostArray(values, shape, DType.FLOAT64);
        } catch (EOFException e) {
            throw new IOException("IDX file " + file + " is truncated: it ends before the values its header announces",
                    e);
        } catch (ZipException e) {
            throw new IOException("IDX file " + file + " is not a valid gzip stream (" + Json.oneLine(e.getMessage(), 80)
                    + ")", e);
        }
    }

    /** Reads {@code count} bytes, growing the buffer only as data arrives (a gzip stream's length is unknown). */
    private static byte[] readValues(InputStream in, int count, Path file) throws IOException {
        byte[] buffer = new byte[Math.min(count, 1 << 20)];
        int filled = 0;
        while (filled < count) {
            if (filled == buffer.length) {
                int grown = (int) Math.min(count, 2L * buffer.length);
                checkHeap(file, grown);
                buffer = java.util.Arrays.copyOf(buffer, grown);
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw truncated(file, count, filled);
            }
            filled += n;
        }
        return buffer;
    }

    /** Refuses {@code values} bytes plus their doubles when the heap cannot hold them. */
    private static void checkHeap(Path file, long values) throws IOException {
        if (values * (1 + Double.BYTES) > Runtime.getRuntime().maxMemory()) {
            throw new IOException("IDX file " + file + ": " + values + " values need " + values * (1 + Double.BYTES)
                    + " bytes (as bytes and doubles), more than the Java heap's maximum (raise -Xmx)");
        }
    }

    private static IOException truncated(Path file, long expected, long present) {
        return new IOException("IDX file " + file + " is truncated: its header announces " + expected
                + " values but " + Math.max(0, present) + " follow");
    }

    private static IOException trailing(Path file, long announced) {
        return new IOException("IDX file " + file + " has bytes after the " + announced
                + " values its header announces; it is not an IDX file of that shape");
    }
}
