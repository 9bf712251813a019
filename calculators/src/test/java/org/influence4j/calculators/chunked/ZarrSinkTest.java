package org.influence4j.calculators.chunked;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.influence4j.api.DType;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.internal.Json;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.calculators.testing.HostBackend;
import org.influence4j.calculators.testing.RecordingProgress;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZarrSinkTest {

    @TempDir
    Path tmp;

    private static InfluenceWorker worker(CoordinateModel model) {
        return new InfluenceWorker(model, HostBackend.INSTANCE, CoordinateModel.P, null);
    }

    private static LazyChunkSequence upInfluences(ChunkedInfluenceCalculator calc) {
        return calc.influences(ChunkedData.of(CoordinateModel.indexData(7, 2), 3),
                ChunkedData.of(CoordinateModel.indexData(10, 2), 4));
    }

    /**
     * Reads a Zarr v2 array from the specification alone (not with the writer's code): .zarray,
     * chunk keys "i.j[.0...]", C order, little-endian, optional zlib, NaN for missing chunks.
     */
    static double[] readZarr(Path dir) throws IOException, DataFormatException {
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) Json.parse(Files.readString(dir.resolve(".zarray")));
        long[] shape = ((List<?>) meta.get("shape")).stream().mapToLong(o -> (Long) o).toArray();
        long[] chunks = ((List<?>) meta.get("chunks")).stream().mapToLong(o -> (Long) o).toArray();
        String dtype = (String) meta.get("dtype");
        int width = switch (dtype) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw new AssertionError("unexpected dtype " + dtype);
        };
        int rank = shape.length;
        long total = 1;
        long[] grid = new long[rank];
        for (int d = 0; d < rank; d++) {
            total *= shape[d];
            grid[d] = (shape[d] + chunks[d] - 1) / chunks[d];
        }
        double[] out = new double[(int) total];
        java.util.Arrays.fill(out, Double.NaN);
        long[] pos = new long[rank];
        while (true) {
            String key = java.util.Arrays.stream(pos).mapToObj(Long::toString).collect(Collectors.joining("."));
            Path file = dir.resolve(key);
            if (Files.exists(file)) {
                byte[] raw = Files.readAllBytes(file);
                if (meta.get("compressor") != null) {
                    Inflater inflater = new Inflater();
                    inflater.setInput(raw);
                    ByteArrayOutputStream bos = new ByteArrayOutputStream();
                    byte[] buf = new byte[8192];
                    while (!inflater.finished()) {
                        int n = inflater.inflate(buf);
                        if (n == 0 && inflater.needsInput()) {
                            throw new AssertionError("truncated zlib stream in " + file);
                        }
                        bos.write(buf, 0, n);
                    }
                    inflater.end();
                    raw = bos.toByteArray();
                }
                long chunkCount = 1;
                for (long c : chunks) {
                    chunkCount *= c;
                }
                assertEquals(chunkCount * width, raw.length, "chunk " + key + " must hold a full chunk");
                ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                long[] local = new long[rank];
                for (long k = 0; k < chunkCount; k++) {
                    double v = width == 4 ? bb.getFloat() : bb.getDouble();
                    long flat = 0;
                    boolean inside = true;
                    for (int d = 0; d < rank; d++) {
                        long g = pos[d] * chunks[d] + local[d];
                        inside &= g < shape[d];
                        flat = flat * shape[d] + g;
                    }
                    if (inside) {
                        out[(int) flat] = v;
                    } else {
                        assertTrue(Double.isNaN(v), "padding of chunk " + key + " must be the fill value NaN");
                    }
                    for (int d = rank - 1; d >= 0; d--) {
                        if (++local[d] < chunks[d]) {
                            break;
                        }
                        local[d] = 0;
                    }
                }
            }
            int d = rank - 1;
            while (d >= 0 && ++pos[d] >= grid[d]) {
                pos[d] = 0;
                d--;
            }
            if (d < 0) {
                break;
            }
        }
        return out;
    }

    /** @return the names of the regular files of {@code dir} (not its folders, e.g. the completion records) */
    private static TreeSet<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void metadataAndChunksFollowTheZarrV2Specification() throws Exception {
        Path dir = tmp.resolve("up.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(dir);

        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) Json.parse(Files.readString(dir.resolve(".zarray")));
        assertEquals(2L, meta.get("zarr_format"));
        assertEquals(List.of(7L, 10L), meta.get("shape"));
        assertEquals(List.of(3L, 4L), meta.get("chunks"));
        assertEquals("<f8", meta.get("dtype"));
        assertTrue(meta.containsKey("compressor"));
        assertNull(meta.get("compressor"));
        assertEquals("NaN", meta.get("fill_value"));
        assertEquals("C", meta.get("order"));
        assertTrue(meta.containsKey("filters"));
        assertNull(meta.get("filters"));
        assertEquals(".", meta.get("dimension_separator"));

        TreeSet<String> expected = new TreeSet<>(List.of(".zarray"));
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                expected.add(i + "." + j);
            }
        }
        assertEquals(expected, files(dir));
        // the edge chunk (rows 6..8, cols 8..11) is stored padded to the full 3 x 4 chunk
        byte[] edge = Files.readAllBytes(dir.resolve("2.2"));
        assertEquals(3 * 4 * 8, edge.length);
        ByteBuffer bb = ByteBuffer.wrap(edge).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(CoordinateModel.up(6, 8), bb.getDouble(0));
        assertEquals(CoordinateModel.up(6, 9), bb.getDouble(8));
        assertTrue(Double.isNaN(bb.getDouble(2 * 8)));
        assertTrue(Double.isNaN(bb.getDouble(4 * 8)));

        double[] v = readZarr(dir);
        for (int t = 0; t < 7; t++) {
            for (int i = 0; i < 10; i++) {
                assertEquals(CoordinateModel.up(t, i), v[t * 10 + i]);
            }
        }
    }

    @Test
    void float32ZlibPerturbationArrayReadsBack() throws Exception {
        Path dir = tmp.resolve("pert.zarr");
        int f = 3;
        LazyChunkSequence lazy = new SequentialInfluenceCalculator(worker(new CoordinateModel(false))).influences(
                ChunkedData.of(CoordinateModel.indexData(5, f), 2), ChunkedData.of(CoordinateModel.indexData(7, f), 3),
                InfluenceMode.PERTURBATION);
        lazy.writeTo(ZarrSink.create(dir, new ZarrSink.Options(DType.FLOAT32, ZarrSink.Compression.ZLIB, 5)));
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) Json.parse(Files.readString(dir.resolve(".zarray")));
        assertEquals(List.of(5L, 7L, 3L), meta.get("shape"));
        assertEquals(List.of(2L, 3L, 3L), meta.get("chunks"));
        assertEquals("<f4", meta.get("dtype"));
        assertEquals(Map.of("id", "zlib", "level", 5L), meta.get("compressor"));
        assertTrue(files(dir).contains("2.2.0"));
        double[] v = readZarr(dir);
        for (int t = 0; t < 5; t++) {
            for (int i = 0; i < 7; i++) {
                for (int e = 0; e < f; e++) {
                    assertEquals(CoordinateModel.perturbation(t, i, e), v[(t * 7 + i) * f + e]);
                }
            }
        }
    }

    @Test
    void aRunKilledHalfWayResumesWithOnlyTheMissingChunks() throws Exception {
        Path reference = tmp.resolve("reference.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(reference);

        Path dir = tmp.resolve("resumed.zarr");
        ZarrSink.Options options = ZarrSink.Options.defaults();
        CoordinateModel first = new CoordinateModel(true);
        LazyChunkSequence crashing = upInfluences(ParallelInfluenceCalculator.shared(worker(first), 2));
        assertThrows(ChunkFailedException.class,
                () -> crashing.writeTo(new FailingSink(ZarrSink.create(dir, options), 5)));
        TreeSet<String> written = files(dir);
        written.remove(".zarray");
        int done = written.size();
        assertTrue(done >= 1 && done <= 4, "chunks written before the crash: " + written);
        Files.write(dir.resolve(".0.0.12345.tmp"), new byte[] {1, 2, 3}); // debris of a killed writer

        CoordinateModel second = new CoordinateModel(false);
        RecordingProgress events = new RecordingProgress();
        upInfluences(new SequentialInfluenceCalculator(worker(second)))
                .writeTo(ZarrSink.create(dir, options), events);
        assertEquals(9 - done, second.calls.get(), "only the missing chunks are recomputed");
        assertEquals(List.of("started influence blocks 9", "resumed " + done), events.events().subList(0, 2));
        assertEquals(9, events.done());
        assertFalse(Files.exists(dir.resolve(".0.0.12345.tmp")), "temporary files of the killed run are removed");
        assertEquals(files(reference), files(dir));
        for (String name : files(reference)) {
            assertArrayEquals(Files.readAllBytes(reference.resolve(name)), Files.readAllBytes(dir.resolve(name)), name);
        }
        assertArrayEquals(readZarr(reference), readZarr(dir));

        CoordinateModel third = new CoordinateModel(false);
        upInfluences(new SequentialInfluenceCalculator(worker(third))).toZarr(dir);
        assertEquals(0, third.calls.get(), "a complete array is not recomputed");
    }

    /**
     * A block file counts only with its completion record: a file that a power loss left empty (the
     * rename reached the disk, the data did not), one cut short, one with other bytes of the same
     * length, and one whose record is missing (a run killed between the two renames) are computed
     * again, and the array ends equal to an undamaged one byte for byte.
     */
    @Test
    void aBlockCountsAsCompleteOnlyWhenItsRecordSaysSo() throws Exception {
        Path reference = tmp.resolve("reference.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(reference);
        Path dir = tmp.resolve("damaged.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(dir);
        assertEquals(files(reference).size() - 1, files(dir.resolve(".blocks")).size(), "one record per block");
        assertTrue(Files.readString(dir.resolve(".blocks").resolve("1.2")).matches(
                "\\{\"bytes\":96,\"crc32c\":\"[0-9a-f]{8}\"}"), "record of block 1.2");

        Files.write(dir.resolve("0.0"), new byte[0]);
        byte[] cut = Files.readAllBytes(dir.resolve("1.1"));
        Files.write(dir.resolve("1.1"), java.util.Arrays.copyOf(cut, cut.length / 2));
        byte[] flipped = Files.readAllBytes(dir.resolve("2.0"));
        flipped[3] ^= 1;
        Files.write(dir.resolve("2.0"), flipped);
        Files.delete(dir.resolve(".blocks").resolve("0.1"));

        CoordinateModel second = new CoordinateModel(false);
        RecordingProgress events = new RecordingProgress();
        upInfluences(new SequentialInfluenceCalculator(worker(second))).writeTo(ZarrSink.create(dir,
                ZarrSink.Options.defaults()), events);
        assertEquals(4, second.calls.get(), "the four damaged blocks, and only they, are computed again");
        assertEquals("resumed 5", events.events().get(1));
        for (Path folder : List.of(reference, reference.resolve(".blocks"))) {
            Path other = dir.resolve(reference.relativize(folder));
            assertEquals(files(folder), files(other));
            for (String name : files(folder)) {
                assertArrayEquals(Files.readAllBytes(folder.resolve(name)), Files.readAllBytes(other.resolve(name)),
                        name);
            }
        }
        assertArrayEquals(readZarr(reference), readZarr(dir));
    }

    /**
     * A store records its provenance in .zattrs; resuming it with another λ is refused naming the
     * field (nothing is written), the same record resumes, and deleteArray starts afresh.
     */
    @Test
    void aStoreOfAnotherComputationIsNeverResumed() throws IOException {
        Path dir = tmp.resolve("p.zarr");
        Provenance first = Provenance.empty().with("lambda", 0.1).with("method", "cg");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false))))
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults(), first));
        assertEquals(first, ZarrSink.readProvenance(dir).orElseThrow());
        Object zattrs = Json.parse(Files.readString(dir.resolve(".zattrs")));
        assertEquals(first.runId(), ((Map<?, ?>) ((Map<?, ?>) zattrs).get("influence4j")).get("run_id"));
        Files.delete(dir.resolve("1.1"));
        Files.delete(dir.resolve(".blocks").resolve("1.1"));

        CoordinateModel other = new CoordinateModel(false);
        Provenance second = first.with("lambda", 5.0);
        ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class, () -> upInfluences(
                new SequentialInfluenceCalculator(worker(other))).writeTo(ZarrSink.create(dir,
                ZarrSink.Options.defaults(), second)));
        assertEquals(List.of("lambda is 0.1 there but 5.0 now"), e.differences());
        assertEquals(0, other.calls.get(), "nothing computed");
        assertFalse(Files.exists(dir.resolve("1.1")), "nothing written");
        assertThrows(ProvenanceMismatchException.class, () -> ZarrSink.requireResumable(dir, second));

        CoordinateModel same = new CoordinateModel(false);
        upInfluences(new SequentialInfluenceCalculator(worker(same))).writeTo(ZarrSink.create(dir,
                ZarrSink.Options.defaults(), first.withDiagnostic("solver", Map.of("converged", true))));
        assertEquals(1, same.calls.get(), "the same computation resumes: only the missing block");

        ZarrSink.deleteArray(dir);
        assertFalse(Files.exists(dir));
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false))))
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults(), second));
        assertEquals(second, ZarrSink.readProvenance(dir).orElseThrow());
        Path notZarr = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(notZarr.resolve("keep.txt"), "x");
        assertThrows(IllegalStateException.class, () -> ZarrSink.deleteArray(notZarr));
        assertTrue(Files.exists(notZarr.resolve("keep.txt")), "a folder that is not a Zarr array is never deleted");
    }

    /** A store without a record (another tool, an older version) is resumed only while it has no block. */
    @Test
    void aStoreWithoutARecordIsAdoptedOnlyWhileEmpty() throws IOException {
        Path dir = tmp.resolve("old.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(dir);
        Provenance record = Provenance.empty().with("lambda", 0.1);
        ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class, () -> upInfluences(
                new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).writeTo(ZarrSink.create(dir,
                ZarrSink.Options.defaults(), record)));
        assertTrue(e.getMessage().contains("no provenance record"), e.getMessage());
        try (Stream<Path> blocks = Files.list(dir)) {
            for (Path p : (Iterable<Path>) blocks::iterator) {
                if (!p.getFileName().toString().equals(".zarray")) {
                    FileTrees.delete(p);
                }
            }
        }
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false))))
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults(), record));
        assertEquals(record, ZarrSink.readProvenance(dir).orElseThrow());
    }

    @Test
    void incompatibleExistingArraysAndPathsAreRefused() throws IOException {
        Path dir = tmp.resolve("a.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false)))).toZarr(dir);
        SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(worker(new CoordinateModel(false)));

        LazyChunkSequence otherShape = calc.influences(ChunkedData.of(CoordinateModel.indexData(7, 2), 3),
                ChunkedData.of(CoordinateModel.indexData(11, 2), 4));
        IllegalStateException shape = assertThrows(IllegalStateException.class, () -> otherShape.toZarr(dir));
        assertTrue(shape.getMessage().contains("incompatible") && shape.getMessage().contains("shape is [7,10]"),
                shape.getMessage());

        IllegalStateException dtype = assertThrows(IllegalStateException.class, () -> upInfluences(calc)
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults().withDType(DType.FLOAT32))));
        assertTrue(dtype.getMessage().contains("dtype is \"<f8\""), dtype.getMessage());

        LazyChunkSequence otherChunks = calc.influences(ChunkedData.of(CoordinateModel.indexData(7, 2), 2),
                ChunkedData.of(CoordinateModel.indexData(10, 2), 4));
        IllegalStateException chunks = assertThrows(IllegalStateException.class, () -> otherChunks.toZarr(dir));
        assertTrue(chunks.getMessage().contains("chunks is [3,4]"), chunks.getMessage());

        Path file = Files.writeString(tmp.resolve("file.zarr"), "x");
        assertThrows(IllegalStateException.class, () -> upInfluences(calc).toZarr(file));
        Path other = tmp.resolve("notzarr");
        Files.createDirectories(other);
        Files.writeString(other.resolve("data.csv"), "1,2");
        IllegalStateException notZarr = assertThrows(IllegalStateException.class, () -> upInfluences(calc).toZarr(other));
        assertTrue(notZarr.getMessage().contains("without .zarray"), notZarr.getMessage());
        assertEquals(1, files(other).size(), "nothing is written into a foreign directory");
    }

    @Test
    void irregularChunkGridsAreRefusedForZarr() {
        SequentialInfluenceCalculator calc = new SequentialInfluenceCalculator(worker(new CoordinateModel(false)));
        org.influence4j.api.data.HostArray x = new org.influence4j.api.data.HostArray(new double[6], new long[] {6, 1},
                DType.FLOAT64);
        ChunkedData irregular = ChunkedData.of(ChunkedArray.of(x, new long[] {2, 3, 1}, new long[] {1}),
                ChunkedArray.of(new org.influence4j.api.data.HostArray(new double[6], new long[] {6}, DType.FLOAT64),
                        new long[] {2, 3, 1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> calc.influences(irregular, null).toZarr(tmp.resolve("irregular.zarr")));
        assertTrue(e.getMessage().contains("not regular"), e.getMessage());
    }

    @Test
    void numpyDecodesTheArrayWhenPythonIsAvailable() throws Exception {
        Path dir = tmp.resolve("numpy.zarr");
        upInfluences(new SequentialInfluenceCalculator(worker(new CoordinateModel(false))))
                .writeTo(ZarrSink.create(dir, ZarrSink.Options.defaults().withZlib(1)));
        String script = String.join("\n",
                "import json, sys, zlib, numpy as np",
                "d = sys.argv[1]",
                "m = json.load(open(d + '/.zarray'))",
                "assert m['zarr_format'] == 2 and m['order'] == 'C'",
                "a = np.full(m['shape'], np.nan, dtype=m['dtype'])",
                "cr, cc = m['chunks']",
                "for i in range(-(-m['shape'][0] // cr)):",
                "    for j in range(-(-m['shape'][1] // cc)):",
                "        raw = zlib.decompress(open('%s/%d.%d' % (d, i, j), 'rb').read())",
                "        block = np.frombuffer(raw, dtype=np.dtype(m['dtype'])).reshape(cr, cc)",
                "        sub = a[i*cr:(i+1)*cr, j*cc:(j+1)*cc]",
                "        sub[...] = block[:sub.shape[0], :sub.shape[1]]",
                "t, n = np.indices(a.shape)",
                "assert np.array_equal(a, 1000.0 * t + n), a",
                "print('ok')");
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", script, dir.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not available: " + e.getMessage());
            return;
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeFalse(out.contains("No module named 'numpy'"), "numpy is not installed");
        assertEquals(0, p.exitValue(), out);
        assertEquals("ok", out.strip());
    }
}
