package org.influence4j.io.data;

import org.influence4j.api.data.Batch;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;

/**
 * The two small real data sets shipped with influence4j (CC BY 4.0, UCI; copies as distributed
 * with scikit-learn, BSD-3-Clause):
 * <ul>
 *   <li>{@link #breastCancer()}: 569 samples, 30 real features, label 0 = malignant, 1 = benign;</li>
 *   <li>{@link #digits()}: 1,797 8x8 images, 64 pixel intensities 0..16 (row-major), label 0..9.</li>
 * </ul>
 * Labels are stored as doubles in a batch of label width 1. Features are raw (not standardized):
 * see {@link #standardize(Batch)}.
 */
public final class BundledDatasets {

    private BundledDatasets() {
    }

    /** @return the Wisconsin diagnostic breast-cancer data, 569 x 30 */
    public static Batch breastCancer() {
        return read("breast_cancer.csv", 1);
    }

    /** @return the optical handwritten digits, 1797 x 64 */
    public static Batch digits() {
        return read("digits.csv.gz", 0);
    }

    /**
     * @return a copy of {@code batch} whose features have mean 0 and (population) standard
     *     deviation 1 per column; constant columns are centred only
     */
    public static Batch standardize(Batch batch) {
        int d = batch.numFeatures();
        int n = batch.size();
        double[] x = batch.x().clone();
        for (int j = 0; j < d; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += x[i * d + j];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double c = x[i * d + j] - mean;
                var += c * c;
            }
            double sd = Math.sqrt(var / n);
            for (int i = 0; i < n; i++) {
                x[i * d + j] = sd > 0 ? (x[i * d + j] - mean) / sd : x[i * d + j] - mean;
            }
        }
        return new Batch(x, d, batch.y().clone(), batch.labelWidth());
    }

    private static Batch read(String resource, int skipLines) {
        try (InputStream raw = BundledDatasets.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new IllegalStateException("bundled data set " + resource + " is missing from the class path");
            }
            InputStream in = resource.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            return CsvDataSource.parse(in, resource, skipLines, 1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read bundled data set " + resource, e);
        }
    }
}
