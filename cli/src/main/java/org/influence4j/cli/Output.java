package org.influence4j.cli;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.influence4j.api.DType;
import org.influence4j.api.io.AtomicFiles;
import org.influence4j.api.io.HostArray;
import org.influence4j.api.io.Npy;

/**
 * Writes a result array by the file extension: {@code .npy} (NumPy format 1.0, C order, the
 * model's dtype, via {@link Npy}) or {@code .csv} (one row per line, each value in Java's shortest
 * decimal form that reads back to the same float or double). Files are written atomically.
 */
final class Output {

    private Output() {
    }

    /**
     * @param data  row-major values
     * @param shape {@code [n]} or {@code [rows, cols]}
     * @throws IllegalArgumentException if the extension is neither {@code .npy} nor {@code .csv}
     */
    static void write(Path file, double[] data, long[] shape, DType dtype) throws IOException {
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
    }
}
