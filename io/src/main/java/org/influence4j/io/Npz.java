package org.influence4j.io;

import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.Json;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * NumPy {@code .npz} archives, as written by {@code np.savez} and {@code np.savez_compressed}: a
 * zip file (stored or deflated, read with {@link java.util.zip}) whose entries are {@code .npy}
 * arrays named {@code NAME.npy}; the array's name is the entry name without {@code .npy}.
 *
 * <p>Reading is bounded: an entry must have a plain name (letters, digits, {@code _ . -}; no folders,
 * no {@code ..}), a declared uncompressed size of at most {@link #MAX_ENTRY_BYTES} that its stored
 * bytes can hold (equal for stored entries, at most deflate's 1032-fold expansion for deflated
 * ones), and its {@code .npy} header must describe an array that fits in that declared size and in
 * the Java heap ({@link Npy#read(InputStream, String, long)}); the reader inflates no more than the
 * array's bytes. So neither a corrupt nor a hostile archive (a "zip bomb") can make it inflate or
 * allocate more than an honest array of that size would need.
 */
public final class Npz {

    /**
     * Largest declared uncompressed size of an entry that is read: the bytes of the largest array
     * {@link Npy} reads (2^31 − 9 elements of 8 bytes) plus a header.
     */
    public static final long MAX_ENTRY_BYTES = 8L * (Integer.MAX_VALUE - 8) + (1 << 16) + 12;

    /** Deflate's largest expansion: 1032 output bytes per input byte (258-byte matches in 2 bits). */
    static final long MAX_RATIO = 1032;

    /** Most entries in an archive. */
    static final int MAX_ENTRIES = 10_000;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*");

    private Npz() {
    }

    /**
     * @return the array names of the archive (entry names without {@code .npy}), in archive order
     * @throws IOException naming the file when it is not a zip archive or an entry is not a plainly
     *     named {@code .npy} array of a sane declared size
     */
    public static List<String> names(Path file) throws IOException {
        try (ZipFile zip = open(file)) {
            return List.copyOf(entries(zip, file).keySet());
        }
    }

    /**
     * Reads one array.
     *
     * @param name the array's name, without {@code .npy}
     * @throws IOException naming the file and listing the archive's arrays when there is no
     *     {@code name}, or naming the entry when it is not a valid {@code .npy} array
     */
    public static HostArray read(Path file, String name) throws IOException {
        try (ZipFile zip = open(file)) {
            Map<String, ZipEntry> entries = entries(zip, file);
            ZipEntry entry = entries.get(name);
            if (entry == null) {
                throw new IOException(file + ": no array '" + Json.oneLine(name, 120) + "' in the archive; it holds "
                        + entries.keySet());
            }
            return read(zip, entry, file + ":" + name);
        }
    }

    /**
     * Reads every array.
     *
     * @return name → array, in archive order
     * @throws IOException as {@link #read(Path, String)}
     */
    public static Map<String, HostArray> readAll(Path file) throws IOException {
        try (ZipFile zip = open(file)) {
            Map<String, HostArray> out = new LinkedHashMap<>();
            for (Map.Entry<String, ZipEntry> e : entries(zip, file).entrySet()) {
                out.put(e.getKey(), read(zip, e.getValue(), file + ":" + e.getKey()));
            }
            return out;
        }
    }

    /**
     * Writes arrays atomically as an archive that {@code np.load} reads (each entry a {@code .npy}
     * file in its array's dtype, deflated when {@code compressed}, like {@code np.savez_compressed}).
     *
     * @param arrays name → array; names must be plain (see the class comment)
     * @throws IllegalArgumentException if a name is not plain
     */
    public static void write(Path file, Map<String, HostArray> arrays, boolean compressed) throws IOException {
        for (String name : arrays.keySet()) {
            if (!NAME.matcher(name).matches() || name.contains("..")) {
                throw new IllegalArgumentException("npz: array name '" + name
                        + "' must be plain (letters, digits, _ . -)");
            }
        }
        AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            zip.setLevel(compressed ? java.util.zip.Deflater.DEFAULT_COMPRESSION
                    : java.util.zip.Deflater.NO_COMPRESSION);
            for (Map.Entry<String, HostArray> e : arrays.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                Npy.write(zip, e.getValue());
                zip.closeEntry();
            }
            zip.finish();
        });
    }

    private static ZipFile open(Path file) throws IOException {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, ".npz file does not exist");
        }
        try {
            return new ZipFile(file.toFile());
        } catch (IOException e) { // ZipException, or EOFException for a cut end record
            throw new IOException(file + ": not an .npz file (not a zip archive: "
                    + Json.oneLine(String.valueOf(e.getMessage()), 120) + ")", e);
        }
    }

    /** @return the archive's arrays by name, every entry checked */
    private static Map<String, ZipEntry> entries(ZipFile zip, Path file) throws IOException {
        if (zip.size() > MAX_ENTRIES) {
            throw new IOException(file + ": .npz archive has " + zip.size() + " entries, more than "
                    + MAX_ENTRIES);
        }
        Map<String, ZipEntry> out = new LinkedHashMap<>();
        Enumeration<? extends ZipEntry> all = zip.entries();
        for (ZipEntry entry : Collections.list(all)) {
            String entryName = Json.oneLine(entry.getName(), 120); // as shown in messages; checked below
            if (entry.isDirectory() || !entry.getName().endsWith(".npy")) {
                throw new IOException(file + ": entry '" + entryName + "' is not a .npy array; an .npz archive"
                        + " holds NAME.npy entries only (np.savez)");
            }
            String name = entry.getName().substring(0, entry.getName().length() - 4);
            if (!NAME.matcher(name).matches() || name.contains("..")) {
                throw new IOException(file + ": entry '" + entryName + "' has a nested or odd name; an .npz"
                        + " archive holds plain NAME.npy entries (letters, digits, _ . -)");
            }
            long size = entry.getSize();
            long compressed = entry.getCompressedSize();
            if (size < 0 || compressed < 0) {
                throw new IOException(file + ": entry '" + entryName + "' declares no size; rewrite the archive"
                        + " with np.savez");
            }
            boolean stored = entry.getMethod() == ZipEntry.STORED;
            if (size > MAX_ENTRY_BYTES || (stored ? size != compressed : size > MAX_RATIO * compressed + 1024)) {
                throw new IOException(file + ": entry '" + entryName + "' declares an absurd uncompressed size of "
                        + size + " bytes for " + compressed + " stored bytes (at most " + MAX_ENTRY_BYTES + ", and"
                        + " deflate expands at most " + MAX_RATIO + "-fold); the archive is corrupt");
            }
            if (out.put(name, entry) != null) {
                throw new IOException(file + ": entry '" + entryName + "' appears twice");
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": the .npz archive holds no arrays");
        }
        return out;
    }

    private static HostArray read(ZipFile zip, ZipEntry entry, String source) throws IOException {
        try (InputStream in = new BufferedInputStream(zip.getInputStream(entry))) {
            return Npy.read(in, source, entry.getSize());
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(source + ": ")) {
                throw e;
            }
            throw new IOException(source + ": corrupt .npz entry (" + Json.oneLine(String.valueOf(e.getMessage()), 120)
                    + ")", e);
        }
    }
}
