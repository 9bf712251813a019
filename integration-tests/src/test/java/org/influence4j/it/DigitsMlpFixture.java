package org.influence4j.it;

import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;

/**
 * The standardized bundled digits (first {@code nTrain} rows to train, the next {@code nTest} to
 * test) and a small tanh MLP {@code 64 -> hidden -> 10} with softmax cross-entropy in float64.
 */
final class DigitsMlpFixture {

    final Batch train;
    final Batch test;
    final ModelSpec spec;

    DigitsMlpFixture(int nTrain, int nTest, int hidden) {
        Batch all = BundledDatasets.standardize(BundledDatasets.digits());
        this.train = all.slice(0, nTrain);
        this.test = all.slice(nTrain, nTrain + nTest);
        this.spec = ModelSpec.builder(64).dense(hidden).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
    }

    /** Trains {@code model} (initialised from {@code spec.initialParameters(seed)}) with Adam. */
    void train(TwiceDifferentiable model, int epochs, long seed) {
        model.setParameters(spec.initialParameters(seed));
        new MinibatchTrainer(MinibatchOptions.of(Optimizer.adam(0.01), epochs, 32, seed))
                .train(model, new InMemoryDataSource(train));
    }
}
