package org.influence4j.api.provenance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;

/**
 * SHA-256 digests of the inputs of a result, as lower-case hex strings (64 characters), the same as
 * {@code sha256sum FILE} and Python's {@code hashlib.sha256(data).hexdigest()}.
 */
public final class Fingerprints {

    private Fingerprints() {
    }

    /**
     * @return the SHA-256 of the file's bytes, read in a stream (any size)
     * @throws IOException naming the file when it cannot be read
     */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new IOException("provenance: cannot read " + file + " to fingerprint it: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** @return the SHA-256 of the UTF-8 bytes of {@code text} */
    public static String sha256(String text) {
        return HexFormat.of().formatHex(newDigest().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * @return the SHA-256 of the values as little-endian IEEE-754 doubles (NumPy's
     *     {@code hashlib.sha256(np.asarray(v, '<f8').tobytes())})
     */
    public static String sha256(double[] values) {
        MessageDigest digest = newDigest();
        update(digest, values, ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN));
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * @return the SHA-256 of a data source's content — its sizes, then the digests of all features and
     *     of all labels (each as little-endian doubles in sample order) — independent of how the source
     *     splits its batches
     */
    public static String sha256(DataSource data) {
        MessageDigest features = newDigest();
        MessageDigest labels = newDigest();
        ByteBuffer buffer = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (Iterator<Batch> it = data.batches(4096); it.hasNext(); ) {
            Batch batch = it.next();
            update(features, batch.x(), buffer);
            update(labels, batch.y(), buffer);
        }
        String sizes = data.size() + "," + data.numFeatures() + "," + data.labelWidth();
        return sha256(sizes + ":" + HexFormat.of().formatHex(features.digest()) + ":"
                + HexFormat.of().formatHex(labels.digest()));
    }

    private static void update(MessageDigest digest, double[] values, ByteBuffer buffer) {
        for (int i = 0; i < values.length; ) {
            buffer.clear();
            int end = Math.min(values.length, i + buffer.capacity() / 8);
            for (; i < end; i++) {
                buffer.putDouble(values[i]);
            }
            digest.update(buffer.array(), 0, buffer.position());
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256 (every Java SE runtime must have one)", e);
        }
    }
}
