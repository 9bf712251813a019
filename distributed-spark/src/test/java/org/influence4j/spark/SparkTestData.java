package org.influence4j.spark;

import java.util.SplittableRandom;
import org.apache.spark.sql.SparkSession;
import org.influence4j.api.data.Batch;

/** What the Spark tests share: a local session on the loopback interface and seeded logistic data. */
final class SparkTestData {

    /** Features per sample of {@link #logistic}. */
    static final int D = 6;

    private SparkTestData() {
    }

    /** @return a {@code local[2]} session bound to 127.0.0.1, without UI, two shuffle partitions */
    static SparkSession localSession(String appName) {
        return SparkSession.builder().appName(appName).master("local[2]")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    /** @return n samples of {@link #D} Gaussian features with labels drawn from a fixed logistic model */
    static Batch logistic(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * D];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double z = 0.2;
            for (int j = 0; j < D; j++) {
                x[i * D + j] = r.nextGaussian();
                z += x[i * D + j] * (j % 2 == 0 ? 0.8 : -0.5);
            }
            y[i] = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
        }
        return new Batch(x, D, y, 1);
    }

    /** @return the largest absolute value of {@code v} */
    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
