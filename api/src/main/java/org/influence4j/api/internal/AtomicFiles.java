package org.influence4j.api.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * Writes files atomically and durably: to a temporary file in the same folder, which is flushed to
 * the disk ({@code fsync}), then renamed over the target, after which the folder is flushed too. So
 * after a crash or a power loss the target holds either its old content or the whole new one, and
 * once {@link #write} returns the new content survives a power loss. Folders created on the way are
 * flushed into their parents as well.
 */
public final class AtomicFiles {

    /** Writes the content of one file. */
    @FunctionalInterface
    public interface Writer {
        /** Writes everything to {@code out}. */
        void write(OutputStream out) throws IOException;
    }

    /** Windows cannot open a folder as a file to flush it; there a rename is as durable as NTFS makes it. */
    private static final boolean DIRECTORY_SYNC = !System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .startsWith("windows");

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically and durably (see the class comment). On any failure the
     * temporary file is deleted and {@code target} is left as it was.
     *
     * @throws IOException when writing, flushing or renaming fails
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                writer.write(out);
                out.flush();
                channel.force(true); // the data is on the disk before a name points to it
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            if (dir != null) {
                syncDirectory(dir); // the rename is on the disk before the write reports success
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes {@code bytes} to {@code target} atomically and durably, as {@link #write(Path, Writer)}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * Creates {@code dir} and its missing parents, flushing each new folder's entry into its parent.
     *
     * @throws IOException when a folder cannot be created or flushed
     */
    public static void createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return;
        }
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = abs; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        Files.createDirectories(abs);
        for (Path created : missing) {
            if (created.getParent() != null) {
                syncDirectory(created.getParent());
            }
        }
    }

    /**
     * Flushes a folder's entries (names created, renamed or deleted in it) to the disk; does nothing
     * on Windows, which cannot open a folder for this.
     *
     * @throws IOException when the folder cannot be opened or flushed
     */
    public static void syncDirectory(Path dir) throws IOException {
        if (!DIRECTORY_SYNC) {
            return;
        }
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
