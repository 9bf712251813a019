package org.influence4j.api.io;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.influence4j.api.DType;

/**
 * Reads IDX files (the format of MNIST and Fashion-MNIST, e.g. Debian's
 * {@code /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}), gzip-compressed when the
 * name ends in {@code .gz}. Only unsigned-byte data (type 0x08) is read: images {@code [n, rows, cols]}
 * and labels {@code [n]}, as doubles 0–255. Bounded against hostile headers: at most 4 dimensions,
 * each positive, at most 2³¹−1 values, and the data must be exactly as long as the header says.
 */
public final class Idx {

    private static final int UNSIGNED_BYTE = 0x08;

    private Idx() {
    }

    /**
     * @param file an IDX file ({@code .gz} for gzip)
     * @param maxItems read at most this many items (first axis), e.g. a training subset; positive
     * @return the values with the header's shape (first axis cut at {@code maxItems}), dtype float64
     * @throws IOException naming the file when it is missing, not IDX unsigned-byte data, or truncated
     */
    public static HostArray read(Path file, int maxItems) throws IOException {
        if (maxItems <= 0) {
            throw new IllegalArgumentException("maxItems: must be positive, got " + maxItems);
        }
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = new BufferedInputStream(file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw);
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
            for (int d = 0; d < rank; d++) {
                int size = data.readInt();
                if (size <= 0) {
                    throw new IOException("IDX file " + file + ": dimension " + d + " is " + size + "; must be positive");
                }
                shape[d] = d == 0 ? Math.min(size, maxItems) : size;
                total *= shape[d];
                if (total > Integer.MAX_VALUE - 8) {
                    throw new IOException("IDX file " + file + ": " + total + " values are too many to read");
                }
            }
            byte[] bytes = new byte[(int) total];
            data.readFully(bytes);
            double[] values = new double[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                values[i] = bytes[i] & 0xff;
            }
            return new HostArray(values, shape, DType.FLOAT64);
        } catch (EOFException e) {
            throw new IOException("IDX file " + file + " is truncated: it ends before the values its header announces",
                    e);
        }
    }
}
