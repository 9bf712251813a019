package org.influence4j.cli;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.influence4j.api.DType;
import org.influence4j.api.internal.AtomicFiles;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.io.ProvenanceFiles;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;

/**
 * Writes a result array by the file extension: {@code .npy} (NumPy format 1.0, C order, the
 * model's dtype, via {@link Npy}) or {@code .csv} (one row per line, each value in Java's shortest
 * decimal form that reads back to the same float or double), and top-k selections as CSV rows
 * {@code test,kind,rank,train,influence}. Files are written atomically, each followed by its
 * provenance record {@code FILE.provenance.json} ({@link ProvenanceFiles#writeSidecar}).
 */
final class Output {

    private Output() {
    }

    /**
     * Checks the extension before anything is computed.
     *
     * @throws IllegalArgumentException naming {@code --output} if it is neither {@code .npy} nor {@code .csv}
     */
    static void requireKnownExtension(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".npy") && !name.endsWith(".csv")) {
            throw new IllegalArgumentException("--output " + file + ": unknown extension; use .npy or .csv");
        }
    }

    /** @throws IllegalArgumentException naming {@code --output} if it is not a {@code .csv} file */
    static void requireCsv(Path file) {
        if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) {
            throw new IllegalArgumentException("--output " + file + ": top-k writes CSV; use a .csv file name");
        }
    }

    /**
     * Writes top-k selections as CSV with the header {@code test,kind,rank,train,influence}: for each
     * test point (row of the selections) the rows of every part in the given order, {@code kind} =
     * {@code proponent} for {@link TopKOrder#PROPONENTS} and {@code opponent} for
     * {@link TopKOrder#OPPONENTS}, {@code rank} from 1, {@code train} the 0-based training index and
     * {@code influence} the score (Java's shortest decimal form of the double).
     *
     * @param parts selections of the same test points, e.g. proponents then opponents
     * @throws IllegalArgumentException if the parts have different numbers of test points
     */
    static void writeTopK(Path file, List<TopK> parts, Provenance record) throws IOException {
        int m = parts.get(0).numRows();
        for (TopK part : parts) {
            if (part.numRows() != m) {
                throw new IllegalArgumentException("parts: top-k selections of " + m + " and " + part.numRows()
                        + " test points");
            }
        }
        AtomicFiles.write(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("test,kind,rank,train,influence\n");
            for (int t = 0; t < m; t++) {
                for (TopK part : parts) {
                    String kind = part.order() == TopKOrder.PROPONENTS ? ",proponent," : ",opponent,";
                    long[] indices = part.indices(t);
                    double[] scores = part.scores(t);
                    for (int r = 0; r < indices.length; r++) {
                        w.write(t + kind + (r + 1) + "," + indices[r] + "," + scores[r] + "\n");
                    }
                }
            }
            w.flush();
        });
        ProvenanceFiles.writeSidecar(file, record);
    }

    /**
     * @param data  row-major values
     * @param shape  {@code [n]} or {@code [rows, cols]}
     * @param record the provenance of the values, written to the sidecar record
     * @throws IllegalArgumentException if the extension is neither {@code .npy} nor {@code .csv}
     */
    static void write(Path file, double[] data, long[] shape, DType dtype, Provenance record) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy")) {
            Npy.write(file, new HostArray(data, shape, dtype));
        } else if (name.endsWith(".csv")) {
            int cols = shape.length == 1 ? 1 : (int) shape[1];
            AtomicFiles.write(file, out -> {
                Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < data.length; i += cols) {
                    line.setLength(0);
                    for (int j = 0; j < cols; j++) {
                        if (j > 0) {
                            line.append(',');
                        }
                        line.append(dtype == DType.FLOAT32 ? Float.toString((float) data[i + j])
                                : Double.toString(data[i + j]));
                    }
                    w.write(line.append('\n').toString());
                }
                w.flush();
            });
        } else {
            throw new IllegalArgumentException("--output " + file + ": unknown extension; use .npy or .csv");
        }
        ProvenanceFiles.writeSidecar(file, record);
    }
}
