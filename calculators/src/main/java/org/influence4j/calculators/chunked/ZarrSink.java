package org.influence4j.calculators.chunked;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.influence4j.api.DType;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.internal.Json;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a chunked result as a <a href="https://zarr-specs.readthedocs.io/en/latest/v2/v2.0.html">Zarr
 * v2</a> array in a directory, readable with {@code zarr.open(path)} in Python (or
 * {@code dask.array.from_zarr}): a {@code .zarray} JSON document plus one file per block, named
 * {@code "i.j"} (with {@code ".0"} per further dimension), holding the block's values in C order,
 * little-endian {@code <f4} or {@code <f8}, raw or zlib-compressed. Blocks at the end of a dimension
 * are padded to the full chunk shape with the fill value NaN, as the format requires; blocks never
 * written read as NaN.
 *
 * <p><b>Atomic, durable and resumable.</b> Every file is written to a temporary file in the same
 * directory, flushed to the disk, renamed and its directory flushed ({@link AtomicFiles}). After its
 * block file, each block gets a <em>completion record</em> {@code .blocks/<key>} (written the same
 * way) holding the block file's length and CRC-32C. A block counts as complete ({@link #isComplete})
 * only when its record exists and the block file has exactly that length and checksum — so a block
 * file that a crash or a power loss left empty, short or garbled, or that lacks its record (a run
 * killed between the two renames, or a store written before records existed), is computed again.
 * Opening an existing array with the same metadata keeps its complete blocks, so a rerun computes
 * only the missing ones; leftover temporary files of a killed run are removed. Zarr readers ignore
 * the {@code .blocks} folder. Opening a path whose array has different metadata, that is a file, or
 * that is a non-empty directory without {@code .zarray} throws {@link IllegalStateException}.
 *
 * <p><b>Provenance.</b> A sink created with a {@link Provenance} records it in the array's
 * {@code .zattrs} under {@value #ATTRIBUTE} (Zarr readers show it as {@code z.attrs["influence4j"]})
 * and opens an existing array only when the recorded identity equals it: otherwise
 * {@link ProvenanceMismatchException} names every differing field (another λ, method, model, data,
 * backend, …), so that a resumed store never mixes the blocks of two computations. An existing array
 * without a record is accepted only while it holds no complete block. {@link #writeProvenance}
 * replaces the record when the computation ends (with its diagnostics); {@link #deleteArray} removes
 * an array to start afresh.
 *
 * <p><b>Grid.</b> Zarr needs a regular grid: all chunks along a dimension equal except a smaller
 * last one; other layouts are refused when the sink is opened.
 */
public final class ZarrSink implements ChunkSink {

    private static final Logger LOG = LoggerFactory.getLogger(ZarrSink.class);

    /** The folder of the completion records, inside the array's directory. */
    static final String RECORDS = ".blocks";

    /** The key of the provenance record in {@code .zattrs}. */
    public static final String ATTRIBUTE = "influence4j";

    /** Chunk compression. */
    public enum Compression {
        /** Raw little-endian values ({@code "compressor": null}). */
        NONE,
        /** zlib streams, numcodecs' {@code {"id": "zlib", "level": L}}. */
        ZLIB
    }

    /**
     * How values are stored.
     *
     * @param dtype       {@link DType#FLOAT32} ({@code <f4}) or {@link DType#FLOAT64} ({@code <f8})
     * @param compression raw or zlib
     * @param level       zlib level 1..9 (ignored for {@link Compression#NONE})
     */
    public record Options(DType dtype, Compression compression, int level) implements Serializable {

        /** @throws IllegalArgumentException naming the argument out of range */
        public Options {
            if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
                throw new IllegalArgumentException("dtype: must be FLOAT32 or FLOAT64, got " + dtype);
            }
            if (compression == null) {
                throw new IllegalArgumentException("compression: must not be null; use Compression.NONE");
            }
            if (compression == Compression.ZLIB && (level < 1 || level > 9)) {
                throw new IllegalArgumentException("level: zlib level must be in 1..9, got " + level);
            }
        }

        /** @return float64, uncompressed */
        public static Options defaults() {
            return new Options(DType.FLOAT64, Compression.NONE, 0);
        }

        /** @return a copy with {@code value} as dtype */
        public Options withDType(DType value) {
            return new Options(value, compression, level);
        }

        /** @return a copy with zlib at {@code zlibLevel} */
        public Options withZlib(int zlibLevel) {
            return new Options(dtype, Compression.ZLIB, zlibLevel);
        }

        String zarrDType() {
            return dtype == DType.FLOAT32 ? "<f4" : "<f8";
        }

        Object compressorJson() {
            if (compression == Compression.NONE) {
                return null;
            }
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("id", "zlib");
            c.put("level", (long) level);
            return c;
        }
    }

    private final Path dir;
    private final Options options;
    private final Provenance provenance;
    private volatile BlockWriter writer;

    private ZarrSink(Path dir, Options options, Provenance provenance) {
        this.dir = dir.toAbsolutePath();
        this.options = options;
        this.provenance = provenance;
    }

    /**
     * @param dir     the array's directory (created when opened)
     * @param options dtype and compression
     * @throws IllegalArgumentException naming a null argument
     */
    public static ZarrSink create(Path dir, Options options) {
        return create(dir, options, null);
    }

    /**
     * A sink that records {@code provenance} and refuses to resume an array of another computation
     * (see the class comment).
     *
     * @param provenance the record of this computation, or null to record none and check nothing
     * @throws IllegalArgumentException naming a null {@code dir} or {@code options}
     */
    public static ZarrSink create(Path dir, Options options, Provenance provenance) {
        if (dir == null) {
            throw new IllegalArgumentException("dir: must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use ZarrSink.Options.defaults()");
        }
        return new ZarrSink(dir, options, provenance);
    }

    /** @return the array's directory */
    public Path dir() {
        return dir;
    }

    /** @return the storage options */
    public Options options() {
        return options;
    }

    @Override
    public synchronized void open(ChunkLayout layout) {
        long[] chunks = chunkShape(layout);
        Map<String, Object> meta = metadata(layout.shape(), chunks, options);
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalStateException("zarr sink: " + dir + " exists and is not a directory; choose another"
                        + " path");
            }
            Path zarray = dir.resolve(".zarray");
            if (Files.exists(zarray)) {
                checkCompatible(zarray, meta);
                checkProvenance();
                removeStaleTemporaries();
            } else {
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> s = Files.list(dir)) {
                        if (s.findAny().isPresent()) {
                            throw new IllegalStateException("zarr sink: " + dir + " is a non-empty directory without"
                                    + " .zarray, not a Zarr array; choose an empty or new path");
                        }
                    }
                }
                byte[] json = Json.write(meta).getBytes(StandardCharsets.UTF_8);
                AtomicFiles.write(zarray, json);
                if (provenance != null) {
                    writeProvenance(provenance);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("zarr sink: cannot open " + dir + ": " + e.getMessage(), e);
        }
        writer = new BlockWriter(dir.toString(), layout, chunks, options);
    }

    /**
     * The chunk shape of the Zarr grid for {@code layout}.
     *
     * @throws IllegalArgumentException if the layout's grid is not regular
     */
    static long[] chunkShape(ChunkLayout layout) {
        long[] shape = layout.shape();
        long[] chunks = shape.clone();
        chunks[0] = regularChunk(layout.rowChunks(), 0);
        chunks[1] = regularChunk(layout.colChunks(), 1);
        return chunks;
    }

    private static long regularChunk(long[] sizes, int dim) {
        long c = sizes[0];
        for (int k = 1; k < sizes.length; k++) {
            if (sizes[k] > c || (k < sizes.length - 1 && sizes[k] != c)) {
                throw new IllegalArgumentException("layout: chunk sizes " + Arrays.toString(sizes) + " along dimension "
                        + dim + " are not regular; Zarr needs equal chunks except a smaller last one — chunk the data"
                        + " with one fixed chunk size");
            }
        }
        return c;
    }

    static Map<String, Object> metadata(long[] shape, long[] chunks, Options options) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("zarr_format", 2L);
        m.put("shape", longs(shape));
        m.put("chunks", longs(chunks));
        m.put("dtype", options.zarrDType());
        m.put("compressor", options.compressorJson());
        m.put("fill_value", "NaN");
        m.put("order", "C");
        m.put("filters", null);
        m.put("dimension_separator", ".");
        return m;
    }

    private static List<Object> longs(long[] values) {
        List<Object> l = new ArrayList<>();
        for (long v : values) {
            l.add(v);
        }
        return l;
    }

    private void checkCompatible(Path zarray, Map<String, Object> expected) throws IOException {
        Object parsed = readJson(zarray);
        if (!(parsed instanceof Map<?, ?> existing)) {
            throw new IllegalStateException("zarr sink: " + zarray + " is not a JSON object; delete the array or"
                    + " choose another path");
        }
        List<String> diffs = new ArrayList<>();
        for (String key : List.of("zarr_format", "shape", "chunks", "dtype", "compressor", "order", "filters")) {
            Object want = expected.get(key);
            Object have = existing.get(key);
            if (!jsonEquals(want, have)) {
                diffs.add(key + " is " + Json.write(have) + " there but this computation writes " + Json.write(want));
            }
        }
        Object sep = existing.get("dimension_separator");
        if (sep != null && !".".equals(sep)) {
            diffs.add("dimension_separator is " + Json.write(sep) + " there but this computation writes \".\"");
        }
        if (!diffs.isEmpty()) {
            throw new IllegalStateException("zarr sink: the existing array at " + dir + " is incompatible: "
                    + String.join("; ", diffs) + ". Delete it, or choose another path, to start a new result");
        }
    }

    /**
     * Compares this sink's provenance with the one recorded in the existing array; records it when the
     * array has none and no complete block yet (a run stopped before its first block).
     */
    private void checkProvenance() throws IOException {
        if (provenance == null) {
            return;
        }
        Optional<Provenance> recorded = readProvenance(dir);
        String what = "the Zarr store " + dir;
        if (recorded.isPresent()) {
            provenance.requireSameRun(what, recorded.get());
            return;
        }
        Path records = dir.resolve(RECORDS);
        boolean hasBlocks;
        try (Stream<Path> s = Files.isDirectory(records) ? Files.list(records) : Stream.empty()) {
            hasBlocks = s.anyMatch(p -> !p.getFileName().toString().endsWith(".tmp"));
        }
        if (hasBlocks) {
            throw new ProvenanceMismatchException(what, List.of("it has no provenance record in .zattrs (written by"
                    + " another tool or an older influence4j), so its blocks cannot be matched to this run"));
        }
        writeProvenance(provenance);
    }

    /**
     * Checks, before anything is computed, that the array at {@code dir} (if any) may be resumed by
     * the computation {@code record}: its recorded identity equals {@code record}'s. An array without
     * a record is left to {@link #open} (which accepts it only while it holds no complete block).
     *
     * @throws ProvenanceMismatchException naming every differing field
     * @throws IOException naming the file when the record cannot be read
     */
    public static void requireResumable(Path dir, Provenance record) throws IOException {
        if (Files.isRegularFile(dir.resolve(".zarray"))) {
            Optional<Provenance> recorded = readProvenance(dir);
            if (recorded.isPresent()) {
                record.requireSameRun("the Zarr store " + dir, recorded.get());
            }
        }
    }

    /**
     * Records {@code record} in the array's {@code .zattrs} under {@value #ATTRIBUTE}, atomically,
     * keeping the other attributes; used when the computation ends, to add its diagnostics.
     *
     * @throws IOException naming the file when it cannot be written
     */
    public void writeProvenance(Provenance record) throws IOException {
        Path zattrs = dir.resolve(".zattrs");
        Map<String, Object> attributes = new LinkedHashMap<>();
        if (Files.isRegularFile(zattrs) && readJson(zattrs) instanceof Map<?, ?> m) {
            m.forEach((k, v) -> attributes.put(String.valueOf(k), v));
        }
        attributes.put(ATTRIBUTE, record.toJson());
        AtomicFiles.write(zattrs, Json.write(attributes).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @return the provenance recorded in the array's {@code .zattrs}, or empty when there is none
     * @throws IOException naming the file when it cannot be read
     * @throws IllegalStateException naming the file when it is not JSON or its record is malformed
     */
    public static Optional<Provenance> readProvenance(Path dir) throws IOException {
        Path zattrs = dir.resolve(".zattrs");
        if (!Files.isRegularFile(zattrs)) {
            return Optional.empty();
        }
        if (readJson(zattrs) instanceof Map<?, ?> m && m.get(ATTRIBUTE) != null) {
            try {
                return Optional.of(Provenance.fromJson(m.get(ATTRIBUTE), zattrs.toString()));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("zarr sink: " + e.getMessage(), e);
            }
        }
        return Optional.empty();
    }

    private static Object readJson(Path file) throws IOException {
        if (Files.size(file) > Json.MAX_LENGTH) {
            throw new IllegalStateException("zarr sink: " + file + " is larger than " + Json.MAX_LENGTH + " bytes");
        }
        try {
            return Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("zarr sink: " + file + " is not valid JSON (" + e.getMessage()
                    + "); delete the array or choose another path", e);
        }
    }

    /**
     * Deletes the Zarr array at {@code dir} (its metadata, blocks, completion records and
     * temporaries), to start afresh; a missing {@code dir} is nothing to delete.
     *
     * @throws IllegalStateException if {@code dir} exists but is not a Zarr array (no {@code .zarray}
     *     and not empty): it is never deleted
     * @throws IOException when deleting fails
     */
    public static void deleteArray(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        boolean empty;
        try (Stream<Path> s = Files.isDirectory(dir) ? Files.list(dir) : Stream.of(dir)) {
            empty = Files.isDirectory(dir) && s.findAny().isEmpty();
        }
        if (!empty && !Files.isRegularFile(dir.resolve(".zarray"))) {
            throw new IllegalStateException("zarr sink: " + dir + " is not a Zarr array (no .zarray); not deleting it");
        }
        FileTrees.delete(dir);
    }

    private static boolean jsonEquals(Object a, Object b) {
        return Json.write(a).equals(Json.write(b));
    }

    private void removeStaleTemporaries() throws IOException {
        for (Path folder : List.of(dir, dir.resolve(RECORDS))) {
            if (!Files.isDirectory(folder)) {
                continue;
            }
            try (Stream<Path> s = Files.list(folder)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    String name = p.getFileName().toString();
                    if (name.startsWith(".") && name.endsWith(".tmp") && Files.isRegularFile(p)) {
                        LOG.info("removing temporary file {} left by an interrupted run", p);
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    /**
     * @return whether the block's completion record exists and its block file has the recorded
     *     length and CRC-32C (see the class comment); a block file without a valid record does not count
     */
    @Override
    public boolean isComplete(ChunkIndex index) {
        String key = requireOpen().key(index);
        Path block = dir.resolve(key);
        Path record = dir.resolve(RECORDS).resolve(key);
        if (!Files.isRegularFile(record)) {
            if (Files.exists(block)) {
                LOG.info("block {} has no completion record (a write was interrupted); computing it again", block);
            }
            return false;
        }
        try {
            Object parsed = Json.parse(Files.readString(record, StandardCharsets.UTF_8));
            if (parsed instanceof Map<?, ?> m && m.get("bytes") instanceof Long bytes
                    && m.get("crc32c") instanceof String crc && Files.isRegularFile(block)
                    && Files.size(block) == bytes && crc32c(block).equals(crc)) {
                return true;
            }
        } catch (IOException | IllegalArgumentException e) {
            LOG.info("completion record {} cannot be read ({}); computing the block again", record, e.getMessage());
            return false;
        }
        LOG.info("block {} does not match its completion record (cut short or changed); computing it again", block);
        return false;
    }

    /** @return the completion record of a block file's bytes: {@code {"bytes": N, "crc32c": "hex"}} */
    static byte[] record(byte[] block) {
        CRC32C crc = new CRC32C();
        crc.update(block);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bytes", (long) block.length);
        m.put("crc32c", String.format("%08x", crc.getValue()));
        return Json.write(m).getBytes(StandardCharsets.UTF_8);
    }

    private static String crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                crc.update(buffer, 0, n);
            }
        }
        return String.format("%08x", crc.getValue());
    }

    @Override
    public void accept(Chunk chunk) {
        requireOpen().write(chunk);
    }

    @Override
    public Optional<RemoteWriter> remoteWriter() {
        return Optional.of(requireOpen());
    }

    private BlockWriter requireOpen() {
        BlockWriter w = writer;
        if (w == null) {
            throw new IllegalStateException("zarr sink " + dir + " is not open");
        }
        return w;
    }

    @Override
    public String toString() {
        return "ZarrSink[" + dir + ", " + options.zarrDType() + ", " + options.compression() + "]";
    }

    /** Writes single blocks of one opened array; serializable for remote executors. */
    static final class BlockWriter implements RemoteWriter {
        private static final long serialVersionUID = 1L;
        private final String dir;
        private final ChunkLayout layout;
        private final long[] chunks;
        private final Options options;

        BlockWriter(String dir, ChunkLayout layout, long[] chunks, Options options) {
            this.dir = dir;
            this.layout = layout;
            this.chunks = chunks;
            this.options = options;
        }

        String key(ChunkIndex index) {
            StringBuilder sb = new StringBuilder().append(index.row()).append('.').append(index.col());
            for (int d = 2; d < chunks.length; d++) {
                sb.append(".0");
            }
            return sb.toString();
        }

        @Override
        public void write(Chunk chunk) {
            layout.validate(chunk);
            long t = layout.trailing();
            int fullCols = (int) chunks[1];
            int fullRows = (int) chunks[0];
            long count = (long) fullRows * fullCols * t;
            int width = options.dtype() == DType.FLOAT32 ? 4 : 8;
            if (count * width > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("zarr sink: a chunk of " + count + " values is too large; use"
                        + " smaller chunks");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) (count * width)).order(ByteOrder.LITTLE_ENDIAN);
            double[] v = chunk.values();
            int rows = chunk.rows();
            int cols = chunk.cols();
            for (int a = 0; a < fullRows; a++) {
                for (int b = 0; b < fullCols; b++) {
                    for (int e = 0; e < t; e++) {
                        double x = a < rows && b < cols ? v[(int) (((long) a * cols + b) * t + e)] : Double.NaN;
                        if (width == 4) {
                            buf.putFloat((float) x);
                        } else {
                            buf.putDouble(x);
                        }
                    }
                }
            }
            byte[] bytes = buf.array();
            String key = key(chunk.index());
            Path target = Paths.get(dir).resolve(key);
            try {
                byte[] stored = bytes;
                if (options.compression() == Compression.ZLIB) {
                    ByteArrayOutputStream packed = new ByteArrayOutputStream(bytes.length / 4 + 64);
                    Deflater deflater = new Deflater(options.level());
                    try (DeflaterOutputStream z = new DeflaterOutputStream(packed, deflater, 1 << 16)) {
                        z.write(bytes);
                    } finally {
                        deflater.end();
                    }
                    stored = packed.toByteArray();
                }
                // the block, flushed and renamed; only then its record: a block without one is not complete
                AtomicFiles.write(target, stored);
                AtomicFiles.write(Paths.get(dir).resolve(RECORDS).resolve(key), record(stored));
            } catch (IOException e) {
                throw new UncheckedIOException("zarr sink: cannot write chunk " + chunk.index() + " to " + target
                        + ": " + e.getMessage(), e);
            }
        }
    }
}
