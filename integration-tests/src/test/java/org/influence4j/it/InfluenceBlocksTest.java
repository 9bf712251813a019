package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Influences from factors equal {@code factors · G_trainᵀ} with the model's own per-sample
 * gradients: through the training gradients' blocks for the embedding models (Dense layers as
 * factors, the tables as the rows looked up, a LayerNorm and a Dense layer on positions as
 * columns), through the gradients for the CNNs; on every graph fixture and available backend,
 * float64 to 1e-12, with the training data in chunks of 3 and
 * in one (eager TensorFlow without the residual CNN, whose curvature it takes minutes to form).
 */
class InfluenceBlocksTest {

    static Stream<Arguments> cases() {
        // eager TensorFlow takes minutes to form the residual CNN's curvature (GraphInfluenceParityTest)
        return AvailableBackends.names().stream().flatMap(backend -> GraphFixture.NAMES.stream()
                .filter(fixture -> !(backend.equals("djl-tf") && fixture.equals("resnet")))
                .map(fixture -> Arguments.of(backend, fixture)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void blocksGiveTheProductsWithTheGradients(String backendName, String fixture) {
        GraphFixture f = GraphFixture.load(fixture);
        Batch train = f.batch();
        Batch test = train.slice(0, 3);
        var backend = BackendDiscovery.load().require(backendName);
        for (int chunk : new int[] {3, 512}) {
            try (TwiceDifferentiable model = backend.createModel(f.spec().withDType(DType.FLOAT64), f.parameters());
                 TensorScope scope = backend.newScope();
                 DirectInfluence direct = new DirectInfluence(model, new InfluenceOptions(1.0, chunk))) {
                direct.fit(new InMemoryDataSource(train));
                Tensor factors = direct.influenceFactors(test, scope);
                double[] z = factors.toDoubleArray();
                double[] g = model.perSampleGradients(train, scope).toDoubleArray();
                int m = test.size();
                int n = train.size();
                int p = model.numParameters();
                double[] expected = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        for (int k = 0; k < p; k++) {
                            expected[i * n + j] += z[i * p + k] * g[j * p + k];
                        }
                    }
                }
                double[] got = direct.influencesFromFactors(factors, train, InfluenceMode.UP, scope).toDoubleArray();
                double err = TestSupport.relErr(got, expected);
                assertTrue(err < 1e-12, backendName + " " + fixture + " chunks of " + chunk + ": relative error " + err);
            }
        }
    }
}
