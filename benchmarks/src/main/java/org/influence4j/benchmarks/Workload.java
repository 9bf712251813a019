package org.influence4j.benchmarks;

import java.util.SplittableRandom;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.registry.BackendDiscovery;

/**
 * The benchmark workload: an MLP {@code inputDim → hidden (tanh) → classes} with softmax
 * cross-entropy in float32 on seeded random data, on the backend named by the system property
 * {@code influence4j.bench.backend} (default: the best available).
 */
final class Workload {

    private Workload() {
    }

    static Backend backend() {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        return BackendDiscovery.load().require(System.getProperty("influence4j.bench.backend", ""));
    }

    static ModelSpec mlp(int inputDim, int hidden, int classes) {
        return ModelSpec.builder(inputDim).dense(hidden).activation(Activation.TANH).dense(classes)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT32).build();
    }

    static Batch data(int n, int inputDim, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * inputDim];
        double[] y = new double[n];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble(-1, 1);
        }
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return new Batch(x, inputDim, y, 1);
    }

    static double[] random(int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[length];
        for (int i = 0; i < length; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }
}
