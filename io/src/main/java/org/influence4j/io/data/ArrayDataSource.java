package org.influence4j.io.data;

import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.internal.Json;
import org.influence4j.io.Npy;
import org.influence4j.io.Npz;
import org.influence4j.io.SafeTensors;

/**
 * Samples read from typed arrays: features {@code [n, ...]} (any rank ≥ 2; float32, float64, int32
 * or int64, e.g. images {@code [n, 1, 28, 28]} or token ids {@code [n, T]}) and labels {@code [n]}
 * (one class index, binary label or target per sample) or {@code [n, k]} (k targets), each from
 * <ul>
 *   <li>a NumPy {@code .npy} file ({@link Npy});</li>
 *   <li>an array of a NumPy {@code .npz} archive ({@link Npz}), {@code FILE.npz:NAME};</li>
 *   <li>a tensor of a {@code .safetensors} file ({@link SafeTensors}), {@code FILE.safetensors:NAME}.</li>
 * </ul>
 * Without {@code :NAME} a container's only array is taken; of several, features default to the one
 * named {@code x} and labels to {@code y}, and without a labels file the labels are the features'
 * container's {@code y} array. The features become the {@link Batch#features() features} of a
 * {@link Batch} in the file's type (float32 stays {@code float[]} on the heap, integers
 * {@code long[]}); a layer graph's per-sample input shape ({@code ModelGraph.inputShape()}) must equal
 * their shape after n.
 *
 * <p>Every problem is reported in one line naming the argument and the file and saying how to fix
 * it: a missing file or unsupported type, a missing array, the wrong rank, a per-sample shape that
 * differs from the model's input shape (both shapes named), or different sample counts of features
 * and labels. The values are all held in memory, like {@link InMemoryDataSource}.
 */
public final class ArrayDataSource implements DataSource {

    /** The default array name of features in a container with several arrays. */
    public static final String FEATURES = "x";
    /** The default array name of labels in a container with several arrays. */
    public static final String LABELS = "y";

    private static final Pattern ENTRY = Pattern.compile("(?s)(.+\\.(?i:npy|npz|safetensors)):([^:/\\\\]+)");

    private final Batch batch;
    private final long[] sampleShape;
    private final InMemoryDataSource source;

    private ArrayDataSource(Batch batch, long[] sampleShape) {
        this.batch = batch;
        this.sampleShape = sampleShape;
        this.source = new InMemoryDataSource(batch);
    }

    /**
     * An array in a file: the file and, for {@code .npz} and {@code .safetensors} containers, the
     * array's name ({@code null} for the default).
     *
     * @param file  the file
     * @param entry the array's name in a container, or {@code null}
     */
    public record ArrayFile(Path file, String entry) {

        /**
         * Parses {@code FILE} or {@code FILE:NAME}. A string that names an existing file is taken as
         * it is, even with a colon.
         *
         * @throws IllegalArgumentException if the string is empty
         */
        public static ArrayFile parse(String argument) {
            if (argument == null || argument.isBlank()) {
                throw new IllegalArgumentException("array file: empty file name");
            }
            Matcher m = ENTRY.matcher(argument);
            if (m.matches() && !exists(argument)) {
                return new ArrayFile(Path.of(m.group(1)), m.group(2));
            }
            return new ArrayFile(Path.of(argument), null);
        }

        /** @return whether {@code argument} names a {@code .npy}, {@code .npz} or {@code .safetensors} array */
        public static boolean isArrayFile(String argument) {
            if (argument == null) {
                return false;
            }
            String name = parse(argument).file().getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".npy") || name.endsWith(".npz") || name.endsWith(".safetensors");
        }

        private static boolean exists(String argument) {
            try {
                return Files.exists(Path.of(argument));
            } catch (java.nio.file.InvalidPathException e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return entry == null ? file.toString() : file + ":" + entry;
        }
    }

    /**
     * Reads features and labels.
     *
     * @param featuresArgument the name of the features in messages, e.g. {@code --train}
     * @param features         {@code FILE} or {@code FILE:NAME} of the features {@code [n, ...]}
     * @param labelsArgument   the name of the labels in messages, e.g. {@code --train-labels}
     * @param labels           {@code FILE} or {@code FILE:NAME} of the labels {@code [n]} or
     *                         {@code [n, k]}; {@code null} for the {@code y} array of the features'
     *                         container
     * @param inputShape       the model's per-sample input shape, or {@code null} to accept any
     * @throws IllegalArgumentException naming the argument and the file, with the fix, for every
     *     problem listed in the class comment
     */
    public static ArrayDataSource read(String featuresArgument, String features, String labelsArgument,
                                       String labels, long[] inputShape) {
        ArrayFile featureFile = ArrayFile.parse(features);
        HostArray x = read(featuresArgument, featureFile, FEATURES);
        String where = featuresArgument + " " + featureFile;
        long[] xShape = x.shape();
        if (xShape.length < 2) {
            throw new IllegalArgumentException(where + ": features have shape " + Arrays.toString(xShape)
                    + "; they need one row per sample, [n, ...]" + (inputShape == null ? ""
                    : " = " + shape("n", inputShape)));
        }
        long[] sample = Arrays.copyOfRange(xShape, 1, xShape.length);
        if (inputShape != null && !Arrays.equals(sample, inputShape)) {
            throw new IllegalArgumentException(where + ": per-sample feature shape " + Arrays.toString(sample)
                    + " does not equal the model's input shape " + Arrays.toString(inputShape) + "; save the features"
                    + " as " + shape("n", inputShape));
        }
        if (Arrays.stream(sample).anyMatch(d -> d == 0)) {
            throw new IllegalArgumentException(where + ": features have shape " + Arrays.toString(xShape)
                    + ", no values per sample; give [n, ...] with every dimension > 0");
        }
        ArrayFile labelFile;
        if (labels != null) {
            labelFile = ArrayFile.parse(labels);
        } else if (isContainer(featureFile.file())) {
            labelFile = new ArrayFile(featureFile.file(), LABELS);
            if (!names(featuresArgument, featureFile).contains(LABELS)) {
                throw new IllegalArgumentException(labelsArgument + ": missing; " + featureFile.file() + " has no array"
                        + " '" + LABELS + "' to take the labels from; give " + labelsArgument + " FILE (.npy [n] or"
                        + " [n, k], or CONTAINER:NAME)");
            }
        } else {
            throw new IllegalArgumentException(labelsArgument + ": missing; the features " + featureFile + " need"
                    + " their labels: give " + labelsArgument + " FILE (.npy [n] or [n, k], or CONTAINER:NAME)");
        }
        HostArray y = read(labelsArgument, labelFile, LABELS);
        long[] yShape = y.shape();
        String labelWhere = labelsArgument + " " + labelFile;
        if (yShape.length < 1 || yShape.length > 2 || (yShape.length == 2 && yShape[1] < 1)) {
            throw new IllegalArgumentException(labelWhere + ": labels have shape " + Arrays.toString(yShape)
                    + "; they need [n] (one label per sample) or [n, k] (k targets per sample)");
        }
        long n = xShape[0];
        if (yShape[0] != n) {
            throw new IllegalArgumentException(labelWhere + ": " + yShape[0] + " labels but " + featuresArgument
                    + " " + featureFile + " has " + n + " samples; give one label (row) per sample");
        }
        if (n == 0) {
            throw new IllegalArgumentException(where + ": holds no samples (shape " + Arrays.toString(xShape)
                    + "); give at least one");
        }
        int labelWidth = yShape.length == 1 ? 1 : (int) yShape[1];
        return new ArrayDataSource(new Batch(x, y.doubles(), labelWidth), sample);
    }

    /** @return all samples, the features in the file's element type */
    public Batch batch() {
        return batch;
    }

    /** @return the shape of one sample's features (the array's shape after n) */
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public long size() {
        return batch.size();
    }

    @Override
    public int numFeatures() {
        return batch.numFeatures();
    }

    @Override
    public int labelWidth() {
        return batch.labelWidth();
    }

    @Override
    public Batch readAll() {
        return batch;
    }

    @Override
    public Iterator<Batch> batches(int batchSize) {
        return source.batches(batchSize);
    }

    private static HostArray read(String argument, ArrayFile file, String defaultName) {
        String where = argument + " " + file;
        if (!Files.isRegularFile(file.file())) {
            throw new IllegalArgumentException(argument + ": file " + file.file() + " does not exist");
        }
        String name = file.file().getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".npy")) {
                if (file.entry() != null) {
                    throw new IllegalArgumentException(where + ": a .npy file holds one array; drop ':"
                            + file.entry() + "'");
                }
                return Npy.read(file.file());
            }
            if (name.endsWith(".npz")) {
                return Npz.read(file.file(), entry(argument, file, Npz.names(file.file()), defaultName));
            }
            if (name.endsWith(".safetensors")) {
                Map<String, HostArray> tensors = SafeTensors.read(file.file());
                return tensors.get(entry(argument, file, List.copyOf(tensors.keySet()), defaultName));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(argument + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException(where + ": unsupported file type; array data is .npy, .npz[:NAME] or"
                + " .safetensors[:NAME]");
    }

    /** @return the array to read: the named one, else the only one, else {@code defaultName} */
    private static String entry(String argument, ArrayFile file, List<String> names, String defaultName) {
        String where = argument + " " + file;
        if (file.entry() != null) {
            if (!names.contains(file.entry())) {
                throw new IllegalArgumentException(where + ": no array '" + file.entry() + "' in " + file.file()
                        + "; it holds " + Json.oneLine(String.valueOf(names), 300));
            }
            return file.entry();
        }
        if (names.size() == 1) {
            return names.get(0);
        }
        if (names.contains(defaultName)) {
            return defaultName;
        }
        throw new IllegalArgumentException(where + ": holds the arrays " + Json.oneLine(String.valueOf(names), 300)
                + " and none is named '" + defaultName
                + "'; pick one with " + file.file() + ":NAME");
    }

    private static List<String> names(String argument, ArrayFile file) {
        try {
            String name = file.file().getFileName().toString().toLowerCase(Locale.ROOT);
            return name.endsWith(".npz") ? Npz.names(file.file())
                    : List.copyOf(SafeTensors.read(file.file()).keySet());
        } catch (IOException e) {
            throw new IllegalArgumentException(argument + ": " + e.getMessage(), e);
        }
    }

    private static boolean isContainer(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".npz") || name.endsWith(".safetensors");
    }

    private static String shape(String first, long[] rest) {
        StringBuilder sb = new StringBuilder("[").append(first);
        for (long d : rest) {
            sb.append(", ").append(d);
        }
        return sb.append(']').toString();
    }
}
