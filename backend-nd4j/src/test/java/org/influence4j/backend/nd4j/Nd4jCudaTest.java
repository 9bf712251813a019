package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.BackendCapability;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * GPU check for the {@code -Pnd4j-cuda} build: when ND4J loaded its CUDA backend, the gradient of a
 * small MLP equals central finite differences of the plain-Java reference. Skipped (not failed) when
 * ND4J runs on the CPU or cannot load at all, e.g. without an NVIDIA GPU.
 */
@Tag("gpu")
class Nd4jCudaTest {

    @Test
    void gradientOnTheGpuMatchesFiniteDifferences() {
        Nd4jBackend backend;
        try {
            backend = Nd4jBackendProvider.backend();
        } catch (IllegalStateException e) {
            Assumptions.abort("ND4J could not load: " + e.getMessage());
            return;
        }
        Assumptions.assumeTrue(backend.capabilities().contains(BackendCapability.CUDA),
                "ND4J runs on " + backend.version() + ", not on CUDA (build with -Pnd4j-cuda on a GPU machine)");
        ModelSpec spec = ModelSpec.builder(5).dense(7).activation(Activation.TANH).dense(3)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, 9, 1);
        double[] theta = TestSupport.parameters(spec, 2, 2);
        try (Nd4jTensorScope scope = backend.newScope(); TwiceDifferentiable model = backend.createModel(spec, theta)) {
            double[] fd = TestSupport.referenceGradientFd(spec, theta, batch, 1e-5);
            double err = TestSupport.relErr(model.gradient(batch, scope).toDoubleArray(), fd);
            assertTrue(err < 1e-7, "gradient rel err " + err);
        }
    }
}
