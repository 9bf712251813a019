package org.influence4j.examples.consumer;

import java.util.Arrays;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.registry.BackendDiscovery;

public class QuickStart {

    public static void main(String[] args) {
        double[] values = run(); // shape [3, 500], row-major
        double[] row = Arrays.copyOfRange(values, 0, 500); // test point 0
        // row[i] > 0: removing training point i would raise the loss on test point 0.
        int proponent = 0;
        for (int i = 1; i < row.length; i++) {
            proponent = row[i] > row[proponent] ? i : proponent;
        }
        System.out.printf("test point 0: strongest proponent is training point %d (influence %.4g)%n",
                proponent, row[proponent]);
    }

    /** The influence of the 500 training points on the first 3 test points. */
    static double[] run() {
        // Bundled data: 569 breast-cancer cases with 30 features; 500 to train on, 69 to test.
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        Batch train = data.slice(0, 500);
        Batch test = data.slice(500, 569);

        // A portable model description: logistic regression, float64 for exact results.
        ModelSpec spec = ModelSpec.builder(30).dense(1)
                .loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Backend backend = BackendDiscovery.load().best().orElseThrow(); // djl-pytorch

        try (TwiceDifferentiable model = backend.createModel(spec, new double[spec.numParameters()]);
             TensorScope scope = backend.newScope()) {
            // Train to the optimum of  mean loss + (0.01/2)·|θ|².
            new NewtonTrainer().train(model, new InMemoryDataSource(train), ObjectiveOptions.ofL2(0.01));

            // influence[t][i] = <H⁻¹ ∇ℓ(test_t), ∇ℓ(train_i)>  with  H = ∇²(mean loss) + 0.01·I.
            try (InfluenceFunctionModel influence = new DirectInfluence(model, 0.01)) {
                influence.fit(new InMemoryDataSource(train));
                Tensor values = influence.influences(test.slice(0, 3), train, InfluenceMode.UP, scope);
                return values.toDoubleArray();
            }
        }
    }
}
