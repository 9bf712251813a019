package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.data.HostArray;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.InfluenceWorkerFactory;
import org.influence4j.calculators.chunked.ParallelInfluenceCalculator;
import org.influence4j.calculators.chunked.SequentialInfluenceCalculator;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chunked calculators on layer graphs: for the LeNet-style and residual fixtures, the
 * sequential calculator's block-assembled influences (chunks of 3 samples, EK-FAC), the parallel
 * calculator with one model per thread (2 threads) both equal the influences of one direct call
 * (float64, 1e-12).
 */
class GraphChunkedCalculatorsTest {

    static Stream<String> fixtures() {
        return Stream.of("lenet", "resnet");
    }

    /** A fitted EK-FAC worker of the fixture on the reference backend, owning its model. */
    private static InfluenceWorker worker(GraphFixture f) {
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
        EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(0.1, true));
        ekfac.fit(new InMemoryDataSource(f.batch()));
        return InfluenceWorker.owning(ekfac, model);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void chunkedAndParallelInfluencesEqualOneCall(String name) throws Exception {
        GraphFixture f = GraphFixture.load(name);
        double[] expected;
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope();
             EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(0.1, true))) {
            ekfac.fit(new InMemoryDataSource(f.batch()));
            expected = ekfac.influences(f.batch(), f.batch(), InfluenceMode.UP, scope).toDoubleArray();
        }
        ChunkedData data = ChunkedData.of(f.batch(), 3);
        double[] sequential;
        try (InfluenceWorker w = worker(f)) {
            sequential = new SequentialInfluenceCalculator(w).influences(data, data).compute().data();
        }
        int p = f.parameters().length;
        InfluenceWorkerFactory factory = InfluenceWorkerFactory.of(p, () -> worker(GraphFixture.load(name)));
        ParallelInfluenceCalculator parallel = ParallelInfluenceCalculator.perWorker(factory, 2);
        HostArray parallelResult = parallel.influences(data, data).compute();
        assertArrayEquals(new long[] {f.batch().size(), f.batch().size()}, parallelResult.shape());
        for (double[] actual : new double[][] {sequential, parallelResult.data()}) {
            double err = TestSupport.relErr(actual, expected);
            assertTrue(err < 1e-12, name + ": chunked influences differ by " + err);
        }
    }
}
