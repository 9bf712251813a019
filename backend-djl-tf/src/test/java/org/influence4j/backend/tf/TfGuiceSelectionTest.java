package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.util.Map;
import org.apache.commons.configuration2.MapConfiguration;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.ConfigKeys;
import org.influence4j.registry.InfluenceModule;
import org.junit.jupiter.api.Test;

/** The backend is found through {@code META-INF/services} and chosen by configuration through Guice. */
class TfGuiceSelectionTest {

    @Test
    void configurationSelectsTheTensorFlowBackendThroughGuice() {
        Injector injector = Guice.createInjector(new InfluenceModule(
                new MapConfiguration(Map.of(ConfigKeys.BACKEND, TfBackendProvider.NAME))));
        Backend backend = injector.getInstance(Backend.class);
        assertEquals("djl-tf", backend.name());
        assertSame(TfBackendProvider.backend(), backend);
        ModelSpec spec = ModelSpec.builder(2).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        Batch batch = Batch.of(new double[][] {{1, 2}, {-1, 0.5}}, new double[] {1, 0});
        try (TensorScope scope = backend.newScope();
             TwiceDifferentiable model = backend.createModel(spec, new double[] {0, 0, 0})) {
            // at θ = 0: ∇ = mean((σ(0) − y) [x, 1]) = (−0.5·[1,2,1] + 0.5·[−1,0.5,1]) / 2
            double[] g = model.gradient(batch, scope).toDoubleArray();
            assertEquals(-0.5, g[0], 1e-15);
            assertEquals(-0.375, g[1], 1e-15);
            assertEquals(0.0, g[2], 1e-15);
        }
    }

    @Test
    void discoveryListsItAfterPyTorchByRank() {
        BackendDiscovery discovery = BackendDiscovery.load();
        assertTrue(discovery.names().contains("djl-tf"), discovery.names().toString());
        assertTrue(discovery.names().indexOf("djl-pytorch") < discovery.names().indexOf("djl-tf"),
                discovery.names().toString());
        assertEquals("djl-tf", discovery.require("djl-tf").name());
    }
}
