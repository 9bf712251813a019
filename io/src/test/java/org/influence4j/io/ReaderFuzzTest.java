package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.influence4j.api.DType;
import org.influence4j.api.internal.Json;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded, structure-aware fuzzing of every reader of untrusted files: {@code .npy} ({@link Npy}),
 * {@code .npz} ({@link Npz}), safetensors ({@link SafeTensors}, with {@link ParameterFiles}), model
 * specs ({@link ModelSpec#fromJson}, {@link ModelSpec#read}) and IDX ({@link Idx}, raw and gzip).
 * Valid files are mutated — bit flips, byte edits, truncation, insertion, length fields set to
 * interesting values (0, −1, 2³¹−1, 2⁶³−1, …), header and JSON trees edited (values replaced by huge,
 * negative, fractional or mistyped ones, keys dropped or added, nesting up to 100 000 levels) — and
 * each reader must either read the file or refuse it with its documented exception ({@link IOException}
 * naming the file, or {@link IllegalArgumentException} itself for JSON text) and a one-line message;
 * anything else ({@link StackOverflowError}, {@link OutOfMemoryError}, {@link NullPointerException},
 * {@link ClassCastException}, a raw {@link NumberFormatException}, …) fails the test, with the input
 * saved under {@code target/fuzz-failures/}.
 *
 * <p>CI runs {@value #DEFAULT_ITERATIONS} inputs per reader (a few seconds in all). A longer run:
 * {@code mvn -pl api test -Dtest=ReaderFuzzTest -Dinfluence4j.fuzz.iterations=100000} (and
 * {@code -Dinfluence4j.fuzz.seed=N} for other inputs). Each reader prints the inputs tried, read
 * and refused.
 */
class ReaderFuzzTest {

    static final int DEFAULT_ITERATIONS = 300;
    static final int ITERATIONS = Integer.getInteger("influence4j.fuzz.iterations", DEFAULT_ITERATIONS);
    static final long SEED = Long.getLong("influence4j.fuzz.seed", 14);

    private static final long[] INTERESTING = {0, 1, 2, 7, 8, -1, -5, -8, 255, 256, 65_535, 65_536,
        Integer.MAX_VALUE, Integer.MAX_VALUE - 8L, 1L << 31, (1L << 32) - 1, 1L << 32, 4_294_967_360L,
        Long.MAX_VALUE, Long.MIN_VALUE, 1L << 62, (1L << 62) + 1, 100_000_001};

    @TempDir
    Path dir;

    /** One reader under test: reads the file, or throws. */
    @FunctionalInterface
    interface Reader {
        void read(Path file) throws Exception;
    }

    /** Makes one mutated input from a random seed file. */
    @FunctionalInterface
    interface Mutator {
        byte[] mutate(SplittableRandom random);
    }

    /** The counts of one reader's run. */
    record Outcome(String reader, int tried, int read, int refused) {
        @Override
        public String toString() {
            return "fuzz " + reader + ": " + tried + " inputs (seed " + SEED + "): " + read + " read, " + refused
                    + " refused with documented errors, 0 other failures";
        }
    }

    /**
     * Runs {@code ITERATIONS} mutated inputs through {@code reader}; every throwable must be {@code
     * documented} (exactly that class when {@code exact}) with a one-line message that names the file
     * when {@code namesFile}.
     */
    Outcome fuzz(String name, String fileName, Mutator mutator, Reader reader, Class<? extends Exception> documented,
                 boolean exact, boolean namesFile) throws IOException {
        SplittableRandom random = new SplittableRandom(SEED ^ name.hashCode());
        Path file = dir.resolve(fileName);
        int read = 0;
        int refused = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = mutator.mutate(random);
            Files.write(file, input);
            try {
                reader.read(file);
                read++;
            } catch (Throwable t) {
                String problem = problem(t, documented, exact, namesFile ? fileName : null);
                if (problem != null) {
                    Path saved = Path.of("target", "fuzz-failures", name + "-" + SEED + "-" + i + "-" + fileName);
                    Files.createDirectories(saved.getParent());
                    Files.write(saved, input);
                    throw new AssertionError("fuzz " + name + " input " + i + " (seed " + SEED + ", saved as "
                            + saved.toAbsolutePath() + "): " + problem, t);
                }
                refused++;
            }
        }
        Outcome outcome = new Outcome(name, ITERATIONS, read, refused);
        System.out.println(outcome);
        assertEquals(ITERATIONS, read + refused);
        return outcome;
    }

    /** @return what is wrong with {@code t} as a documented refusal, or null if nothing is */
    static String problem(Throwable t, Class<? extends Exception> documented, boolean exact, String fileName) {
        if (!documented.isInstance(t) || (exact && t.getClass() != documented)) {
            return "undocumented " + t;
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return "no message: " + t;
        }
        if (m.contains("\n") || m.contains("\r")) {
            return "message of several lines: " + m;
        }
        for (String raw : new String[] {"For input string", "Cannot invoke", "cannot be cast", "out of bounds",
                "Exception", "Error:", "overflow"}) {
            if (m.contains(raw)) {
                return "raw message (" + raw + "): " + m;
            }
        }
        if (fileName != null && !m.contains(fileName)) {
            return "message does not name the file " + fileName + ": " + m;
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------
    // generic byte mutations

    static byte[] mutateBytes(byte[] original, SplittableRandom random, int edits) {
        byte[] b = original.clone();
        for (int e = 0; e < edits; e++) {
            if (b.length == 0) {
                b = new byte[] {(byte) random.nextInt(256)};
                continue;
            }
            switch (random.nextInt(7)) {
                case 0 -> b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> b[random.nextInt(b.length)] = (byte) new int[] {0, 0xff, 0x7f, 0x80, '[', '{', '"', '-',
                    '9', ',', random.nextInt(256)}[random.nextInt(11)];
                case 2 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
                case 3 -> {
                    int at = random.nextInt(b.length + 1);
                    byte[] insert = new byte[1 + random.nextInt(16)];
                    random.nextBytes(insert);
                    b = splice(b, at, at, insert);
                }
                case 4 -> {
                    int from = random.nextInt(b.length);
                    int to = Math.min(b.length, from + 1 + random.nextInt(32));
                    b = splice(b, from, to, new byte[0]);
                }
                case 5 -> {
                    int from = random.nextInt(b.length);
                    int to = Math.min(b.length, from + 1 + random.nextInt(64));
                    int at = random.nextInt(b.length + 1);
                    b = splice(b, at, at, java.util.Arrays.copyOfRange(b, from, to));
                }
                default -> putNumber(b, random.nextInt(b.length), random);
            }
        }
        return b;
    }

    /** Writes an interesting 1-, 2-, 4- or 8-byte integer, little- or big-endian, at {@code at} (clipped). */
    static void putNumber(byte[] b, int at, SplittableRandom random) {
        long v = interesting(random);
        int width = new int[] {1, 2, 4, 8}[random.nextInt(4)];
        boolean little = random.nextInt(4) != 0;
        for (int k = 0; k < width && at + k < b.length; k++) {
            int shift = 8 * (little ? k : width - 1 - k);
            b[at + k] = (byte) (v >>> shift);
        }
    }

    static long interesting(SplittableRandom random) {
        return random.nextInt(5) == 0 ? random.nextLong() : INTERESTING[random.nextInt(INTERESTING.length)];
    }

    static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        byte[] out = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(b, to, out, from + insert.length, b.length - to);
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // JSON tree mutations (specs, safetensors headers)

    private static final String NEST = "\u0001NEST\u0001";

    /** Mutates a parsed JSON document and writes it back, with deep nesting spliced in as text. */
    static String mutateJson(String json, SplittableRandom random, int edits) {
        Object tree = Json.parse(json);
        int depth = 0;
        for (int e = 0; e < edits; e++) {
            List<Object[]> slots = new ArrayList<>();
            collect(tree, slots);
            if (slots.isEmpty()) {
                break;
            }
            Object[] slot = slots.get(random.nextInt(slots.size()));
            Object container = slot[0];
            Object key = slot[1];
            int op = random.nextInt(10);
            if (op <= 4) {
                set(container, key, interestingValue(random, get(container, key)));
            } else if (op == 5) {
                remove(container, key);
            } else if (op == 6 && container instanceof Map<?, ?>) {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) container;
                m.put(new String[] {"shape", "dtype", "data_offsets", "__metadata__", "format", "inputs", "name",
                    "op", "buffers", "extra", "in_features", "axis", "line\nbreak", "0.weight"}[random.nextInt(14)],
                        interestingValue(random, null));
            } else if (op == 7 && container instanceof List<?>) {
                @SuppressWarnings("unchecked")
                List<Object> l = (List<Object>) container;
                l.add(random.nextInt(l.size() + 1), interestingValue(random, null));
            } else if (op == 8) {
                set(container, key, new ArrayList<>(java.util.Collections.singletonList(get(container, key))));
            } else {
                depth = new int[] {2, 60, Json.MAX_DEPTH - 2, Json.MAX_DEPTH - 1, Json.MAX_DEPTH, 1000, 100_000}[
                        random.nextInt(7)];
                set(container, key, NEST);
            }
        }
        String text = Json.write(tree);
        if (depth > 0) {
            text = text.replace(Json.write(NEST), "[".repeat(depth) + "]".repeat(depth));
        }
        return text;
    }

    private static void collect(Object node, List<Object[]> slots) {
        if (node instanceof Map<?, ?> m) {
            for (Object k : List.copyOf(m.keySet())) {
                slots.add(new Object[] {m, k});
                collect(m.get(k), slots);
            }
        } else if (node instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                slots.add(new Object[] {l, i});
                collect(l.get(i), slots);
            }
        }
    }

    private static Object get(Object container, Object key) {
        return container instanceof Map<?, ?> m ? m.get(key) : ((List<?>) container).get((Integer) key);
    }

    @SuppressWarnings("unchecked")
    private static void set(Object container, Object key, Object value) {
        if (container instanceof Map<?, ?> m) {
            ((Map<Object, Object>) m).put(key, value);
        } else {
            ((List<Object>) container).set((Integer) key, value);
        }
    }

    private static void remove(Object container, Object key) {
        if (container instanceof Map<?, ?> m) {
            m.remove(key);
        } else {
            ((List<?>) container).remove((int) (Integer) key);
        }
    }

    static Object interestingValue(SplittableRandom random, Object current) {
        return switch (random.nextInt(12)) {
            case 0, 1, 2 -> interesting(random);
            case 3 -> current instanceof Long l ? l + (random.nextBoolean() ? 1 : -1) : -1L;
            case 4 -> new double[] {1.5, -0.0, 1e300, -1e-300, 0.5}[random.nextInt(5)];
            case 5 -> new String[] {"", "abc", "F64", "F32", "I64", "<f8", "dense", "conv2d", "flatten", "add",
                "embedding", "batch_norm", "int64", "softmax_cross_entropy", "a\nb", "\u0000", "x".repeat(5000),
                "__metadata__", "input"}[random.nextInt(19)];
            case 6 -> null;
            case 7 -> random.nextBoolean();
            case 8 -> new ArrayList<>();
            case 9 -> new LinkedHashMap<>();
            case 10 -> new ArrayList<>(List.of(interesting(random), interesting(random)));
            default -> String.valueOf(interesting(random));
        };
    }

    // ---------------------------------------------------------------------------------------------
    // seeds

    static byte[] npy(int major, String descr, String shape, boolean fortran, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
                + shape + ", }";
        int prefix = major == 1 ? 10 : 12;
        int padded = ((prefix + dict.length() + 1 + 63) / 64) * 64;
        String header = dict + " ".repeat(padded - prefix - dict.length() - 1) + "\n";
        return npyRaw(major, header.getBytes(StandardCharsets.ISO_8859_1), header.length(), data);
    }

    static byte[] npyRaw(int major, byte[] header, long headerLength, byte[] data) {
        ByteBuffer bb = ByteBuffer.allocate((major == 1 ? 10 : 12) + header.length + data.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            bb.putShort((short) headerLength);
        } else {
            bb.putInt((int) headerLength);
        }
        return bb.put(header).put(data).array();
    }

    static byte[] values(int count, int width) {
        byte[] b = new byte[count * width];
        new SplittableRandom(count).nextBytes(b);
        return b;
    }

    /** A structure-aware .npy input: header fields and lengths edited, then optionally bytes. */
    static byte[] npyInput(SplittableRandom random) {
        String[] descrs = {"<f8", "<f4", "<i8", "<i4", ">f8", "|u1", "<c16", "", "'", "<f8', 'x': '"};
        String[] shapes = {"(3,)", "(2, 3)", "()", "(0,)", "(6, 0)", "(abc,)", "(-1,)", "(99999999999999999999,)",
            "(4611686018427387905, 4)", "(1 2,)", "(,)", "(3,,)", "((2,),)", "(2147483647, 2147483647)",
            "(46341, 46341)", "(3", "3", "(" + "1, ".repeat(5000) + ")"};
        int major = new int[] {1, 1, 2, 3, 0, 4}[random.nextInt(6)];
        if (major == 0 || major == 4) {
            major = random.nextBoolean() ? 1 : 2;
        }
        String descr = random.nextInt(3) == 0 ? descrs[random.nextInt(descrs.length)] : "<f8";
        String shape = random.nextInt(2) == 0 ? shapes[random.nextInt(shapes.length)] : "(2, 3)";
        int width = descr.endsWith("4") ? 4 : 8;
        byte[] data = values(random.nextInt(3) == 0 ? random.nextInt(10) : 6, width);
        byte[] b = npy(major, descr, shape, random.nextInt(10) == 0, data);
        if (random.nextInt(4) == 0) { // the header length field set to an interesting value
            int at = 8;
            long v = interesting(random);
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            if (major == 1) {
                bb.putShort(at, (short) v);
            } else {
                bb.putInt(at, (int) v);
            }
        }
        if (random.nextInt(3) == 0) {
            b = mutateBytes(b, random, 1 + random.nextInt(6));
        }
        return b;
    }

    static byte[] zip(Map<String, byte[]> entries, boolean deflate) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setLevel(deflate ? 6 : 0);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                if (!deflate) {
                    entry.setMethod(ZipEntry.STORED);
                    entry.setSize(e.getValue().length);
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(e.getValue());
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A structure-aware .npz input: entries mutated as .npy, odd names, zip size fields edited, bytes. */
    static byte[] npzInput(SplittableRandom random) {
        try {
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("x.npy", random.nextBoolean() ? npyInput(random) : npy(1, "<f8", "(2, 3)", false,
                    values(6, 8)));
            entries.put("y.npy", npy(1, "<i8", "(2,)", false, values(2, 8)));
            if (random.nextInt(6) == 0) {
                entries.put(new String[] {"../z.npy", "a/b.npy", "z.txt", "z", ".npy", "x".repeat(300) + ".npy"}[
                        random.nextInt(6)], npy(1, "<f4", "(1,)", false, values(1, 4)));
            }
            byte[] b = zip(entries, random.nextBoolean());
            int edits = random.nextInt(4);
            for (int e = 0; e < edits; e++) { // size, count and offset fields of the zip records
                int[][] fields = {{0x04034b50, 18}, {0x04034b50, 22}, {0x04034b50, 26}, {0x02014b50, 20},
                    {0x02014b50, 24}, {0x02014b50, 28}, {0x02014b50, 42}, {0x06054b50, 10}, {0x06054b50, 12},
                    {0x06054b50, 16}};
                int[] field = fields[random.nextInt(fields.length)];
                int at = find(b, field[0], random);
                if (at >= 0) {
                    putNumber(b, at + field[1], random);
                }
            }
            if (random.nextInt(3) == 0) {
                b = mutateBytes(b, random, 1 + random.nextInt(4));
            }
            return b;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** @return the offset of a random occurrence of the little-endian signature, or -1 */
    static int find(byte[] b, int signature, SplittableRandom random) {
        List<Integer> at = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= b.length; i++) {
            if (bb.getInt(i) == signature) {
                at.add(i);
            }
        }
        return at.isEmpty() ? -1 : at.get(random.nextInt(at.size()));
    }

    static final String SAFETENSORS_HEADER = "{\"__metadata__\":{\"learning_rate\":\"0.1\",\"epoch\":\"3\"},"
            + "\"0.weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
            + "\"0.bias\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]},"
            + "\"ids\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[24,32]}}";

    /** The parameters of a Dense 2 → 1 model, as {@link ParameterFiles} reads them. */
    static final String PARAMETERS_HEADER = "{"
            + "\"0.bias\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]},"
            + "\"0.weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]}}";

    /** A structure-aware safetensors input: header JSON tree edited, length prefix and data edited, bytes. */
    static byte[] safetensorsInput(SplittableRandom random) {
        String seed = random.nextBoolean() ? SAFETENSORS_HEADER : PARAMETERS_HEADER;
        String header = random.nextInt(5) == 0 ? seed : mutateJson(seed, random, 1 + random.nextInt(3));
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] data = values(random.nextInt(4) == 0 ? random.nextInt(40) : 32, 1);
        ByteBuffer bb = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        long length = random.nextInt(6) == 0 ? interesting(random) : h.length;
        byte[] b = bb.putLong(length).put(h).put(data).array();
        if (random.nextInt(4) == 0) {
            b = mutateBytes(b, random, 1 + random.nextInt(4));
        }
        return b;
    }

    static final String[] SPECS = {
        "{\"inputDim\": 4, \"layers\": [{\"type\": \"dense\", \"units\": 3}, {\"type\": \"activation\", \"name\":"
            + " \"tanh\"}, {\"type\": \"dense\", \"units\": 2}], \"loss\": \"softmax_cross_entropy\", \"dtype\":"
            + " \"float64\"}",
        "{\"format\": 2, \"input\": {\"shape\": [1, 12, 12]}, \"layers\": [{\"op\": \"conv2d\", \"in_channels\": 1,"
            + " \"out_channels\": 4, \"kernel_size\": 3, \"padding\": 1}, {\"op\": \"batch_norm\", \"num_features\":"
            + " 4}, {\"op\": \"relu\"}, {\"op\": \"max_pool2d\", \"kernel_size\": 2}, {\"op\": \"flatten\"},"
            + " {\"op\": \"dropout\", \"p\": 0.1}, {\"op\": \"dense\", \"in_features\": 144, \"out_features\": 3}],"
            + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float32\", \"buffers\": {\"1.running_mean\":"
            + " [0, 0, 0, 0], \"1.running_var\": [1, 1, 1, 1]}}",
        "{\"format\": 2, \"input\": {\"shape\": [6], \"dtype\": \"int64\"}, \"nodes\": [{\"name\": \"emb\", \"op\":"
            + " \"embedding\", \"num_embeddings\": 10, \"embedding_dim\": 4}, {\"name\": \"ln\", \"op\":"
            + " \"layer_norm\", \"normalized_shape\": 4}, {\"name\": \"fc\", \"op\": \"dense\", \"in_features\": 4,"
            + " \"out_features\": 4}, {\"name\": \"res\", \"op\": \"add\", \"inputs\": [\"ln\", \"fc\"]},"
            + " {\"name\": \"pool\", \"op\": \"mean\", \"axis\": 0}, {\"name\": \"out\", \"op\": \"dense\","
            + " \"in_features\": 4, \"out_features\": 1}], \"loss\": \"binary_logistic\"}",
        "{\"format\": 2, \"input\": {\"shape\": [2, 8, 8]}, \"nodes\": [{\"name\": \"c\", \"op\": \"conv2d\","
            + " \"in_channels\": 2, \"out_channels\": 2, \"kernel_size\": [3, 3], \"stride\": 2, \"dilation\": 1},"
            + " {\"name\": \"p\", \"op\": \"avg_pool2d\", \"kernel_size\": 2, \"inputs\": [\"c\"]}, {\"name\": \"g\","
            + " \"op\": \"global_avg_pool\"}, {\"name\": \"o\", \"op\": \"linear\", \"in_features\": 2,"
            + " \"out_features\": 1, \"bias\": false}], \"loss\": \"mse\", \"dtype\": \"float64\"}"};

    static String specInput(SplittableRandom random) {
        String spec = SPECS[random.nextInt(SPECS.length)];
        if (random.nextInt(6) != 0) {
            spec = mutateJson(spec, random, 1 + random.nextInt(3));
        }
        if (random.nextInt(5) == 0) {
            spec = new String(mutateBytes(spec.getBytes(StandardCharsets.UTF_8), random, 1 + random.nextInt(3)),
                    StandardCharsets.UTF_8);
        }
        return spec;
    }

    static byte[] idx(int[] dims, int values) {
        ByteBuffer bb = ByteBuffer.allocate(4 + 4 * dims.length + values);
        bb.putInt(0x0800 | dims.length);
        for (int d : dims) {
            bb.putInt(d);
        }
        return bb.put(values(values, 1)).array();
    }

    /** A structure-aware IDX input: magic, rank and dimensions edited, data cut or extended, bytes. */
    static byte[] idxInput(SplittableRandom random, boolean gzip) {
        int[][] shapes = {{5}, {3, 4, 4}, {2, 3}, {1, 1, 1, 2}};
        int[] dims = shapes[random.nextInt(shapes.length)].clone();
        int count = 1;
        for (int d : dims) {
            count *= d;
        }
        if (random.nextInt(3) == 0) {
            dims[random.nextInt(dims.length)] = (int) interesting(random);
        }
        int values = random.nextInt(4) == 0 ? random.nextInt(2 * count + 2) : count;
        byte[] b = idx(dims, values);
        if (random.nextInt(6) == 0) {
            ByteBuffer.wrap(b).putInt(0, (int) interesting(random));
        }
        if (random.nextInt(3) == 0) {
            b = mutateBytes(b, random, 1 + random.nextInt(4));
        }
        if (!gzip) {
            return b;
        }
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream z = new GZIPOutputStream(out)) {
                z.write(b);
            }
            byte[] packed = out.toByteArray();
            return random.nextInt(3) == 0 ? mutateBytes(packed, random, 1 + random.nextInt(3)) : packed;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the readers

    @Test
    void npy() throws IOException {
        Outcome o = fuzz("npy", "fuzz.npy", ReaderFuzzTest::npyInput, Npy::read, IOException.class, false, true);
        assertTrue(o.refused() > ITERATIONS / 10 && o.read() > ITERATIONS / 20, o.toString());
    }

    @Test
    void npz() throws IOException {
        Outcome o = fuzz("npz", "fuzz.npz", ReaderFuzzTest::npzInput, Npz::readAll, IOException.class, false, true);
        assertTrue(o.refused() > ITERATIONS / 10 && o.read() > ITERATIONS / 20, o.toString());
    }

    @Test
    void safetensors() throws IOException {
        ModelSpec spec = ModelSpec.fromJson("{\"inputDim\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 1}],"
                + " \"loss\": \"mse\", \"dtype\": \"float64\"}");
        Outcome o = fuzz("safetensors", "fuzz.safetensors", ReaderFuzzTest::safetensorsInput, file -> {
            SafeTensors.read(file);
            SafeTensors.readMetadata(file);
            try {
                ParameterFiles.readState(file, spec); // refuses, e.g., the extra tensor 'ids' of one seed
            } catch (IOException e) {
                String problem = problem(e, IOException.class, false, "fuzz.safetensors");
                if (problem != null) {
                    throw new AssertionError("ParameterFiles.readState: " + problem, e);
                }
            }
        }, IOException.class, false, true);
        assertTrue(o.refused() > ITERATIONS / 10 && o.read() > ITERATIONS / 20, o.toString());
    }

    @Test
    void specJson() throws IOException {
        Outcome text = fuzz("spec-json", "fuzz.json", random -> specInput(random).getBytes(StandardCharsets.UTF_8),
                file -> {
                    ModelSpec spec = ModelSpec.fromJson(Files.readString(file));
                    spec.numParameters();
                    spec.parameterLayout();
                    assertEquals(spec, ModelSpec.fromJson(spec.toJson()), "the JSON form reads back");
                }, IllegalArgumentException.class, true, false);
        assertTrue(text.refused() > ITERATIONS / 10 && text.read() > ITERATIONS / 20, text.toString());
        Outcome file = fuzz("spec-file", "fuzz-spec.json", random -> {
            byte[] b = specInput(random).getBytes(StandardCharsets.UTF_8);
            return random.nextInt(4) == 0 ? mutateBytes(b, random, 1 + random.nextInt(3)) : b;
        }, ModelSpec::read, IOException.class, false, true);
        assertTrue(file.refused() > ITERATIONS / 10, file.toString());
    }

    @Test
    void idx() throws IOException {
        Outcome raw = fuzz("idx", "fuzz-idx3-ubyte", random -> idxInput(random, false),
                file -> Idx.read(file, 1 + (int) (file.toFile().length() % 7)), IOException.class, false, true);
        assertTrue(raw.refused() > ITERATIONS / 10 && raw.read() > ITERATIONS / 20, raw.toString());
        Outcome gz = fuzz("idx-gz", "fuzz-idx3-ubyte.gz", random -> idxInput(random, true),
                file -> Idx.read(file, Integer.MAX_VALUE), IOException.class, false, true);
        assertTrue(gz.refused() > ITERATIONS / 10 && gz.read() > ITERATIONS / 20, gz.toString());
    }

    @Test
    void theSeedsThemselvesAreRead() throws IOException {
        Path f = dir.resolve("seed.npy");
        Files.write(f, npy(1, "<f8", "(2, 3)", false, values(6, 8)));
        assertEquals(6, Npy.read(f).data().length);
        Files.write(f, npy(3, "<i4", "(3,)", false, values(3, 4)));
        assertEquals(DType.FLOAT32, Npy.read(f).dtype());
        Path st = dir.resolve("seed.safetensors");
        byte[] h = SAFETENSORS_HEADER.getBytes(StandardCharsets.UTF_8);
        Files.write(st, ByteBuffer.allocate(8 + h.length + 32).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length)
                .put(h).array());
        assertEquals(List.of("0.weight", "0.bias", "ids"), List.copyOf(SafeTensors.read(st).keySet()));
        assertEquals("0.1", SafeTensors.readMetadata(st).get("learning_rate"));
        for (String spec : SPECS) {
            ModelSpec.fromJson(spec);
        }
        Path i = dir.resolve("seed-idx3-ubyte");
        Files.write(i, idx(new int[] {3, 4, 4}, 48));
        assertEquals(48, Idx.read(i, 10).data().length);
    }
}
