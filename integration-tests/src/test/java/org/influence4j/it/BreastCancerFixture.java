package org.influence4j.it;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;

/**
 * The fidelity setting of the foundation issue: standardized breast-cancer features, a seeded
 * split into 69 test and 500 training points, L2-regularized logistic regression in float64.
 */
final class BreastCancerFixture {

    static final double LAMBDA = 0.01;
    static final ModelSpec SPEC = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();

    final Batch train;
    final Batch test;

    BreastCancerFixture(long seed) {
        Batch all = BundledDatasets.standardize(BundledDatasets.breastCancer());
        int[] order = IntStream.range(0, all.size()).toArray();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        test = all.select(Arrays.copyOfRange(order, 0, 69));
        train = all.select(Arrays.copyOfRange(order, 69, 569));
    }
}
