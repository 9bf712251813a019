package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.data.ArrayDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native memory stays flat over thousands of exact HVPs (libtorch's create_graph reference cycle
 * would grow RSS by roughly 80 KB per HVP on the MLP, i.e. about 400 MB over the loop), also for a
 * TorchScript module: before its derivatives went through {@code torch.autograd.grad}, every HVP
 * reloaded the module and left the copy in a parameter↔gradient cycle, about 25 KB per HVP on the
 * 4-input MLP fixture.
 */
class PtModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

    private static final Logger LOG = LoggerFactory.getLogger(PtModelNativeMemoryTest.class);

    @TempDir
    Path dir;

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }

    /** The TorchScript CNN fixture (Conv2d, BatchNorm2d, MaxPool2d, Dropout, Linear; p = 159), batch 6. */
    @Test
    void fiveThousandHvpsOfATorchScriptModuleKeepRssFlat() throws IOException {
        Path pt = GraphFixture.torchScriptFile("cnn/model.pt", dir);
        ArrayDataSource data = ArrayDataSource.read("x", GraphFixture.torchScriptFile("cnn/x.npy", dir).toString(),
                "y", GraphFixture.torchScriptFile("cnn/y.npy", dir).toString(), null);
        try (TwiceDifferentiable model = backend().loadModel(pt, NativeModelOptions.torchScript(data.sampleShape(),
                false, Loss.SOFTMAX_CROSS_ENTROPY, DType.FLOAT32))) {
            measure(model, data.batch(), "the TorchScript CNN, float32, batch 6", 2500);
        }
    }

    /**
     * An exact Hessian holds one R-pass of work arrays ({@code [128, n, width]}) at a time: the digits
     * MLP's p = 2410 unit directions in 19 passes on 512 samples, float64, raise the peak RSS (VmHWM,
     * reset through {@code /proc/self/clear_refs}) by less than 700 MB; when every pass's arrays stayed
     * until the call returned, about 1.8 GB.
     */
    @Test
    void anExactHessianHoldsOnePassOfWorkArraysAtATime() throws IOException {
        Path clearRefs = Path.of("/proc/self/clear_refs");
        assumeTrue(Files.isWritable(clearRefs), "the peak RSS cannot be reset here");
        ModelSpec spec = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, 512, 3);
        try (TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 4, 1));
             TensorScope scope = backend().newScope()) {
            try (Tensor warm = model.hvpBlock(batch, scope.eye(DType.FLOAT64, spec.numParameters()).rows(0, 8),
                    scope)) {
                // libtorch's first calls allocate what it keeps
            }
            long before = settledRssKiB();
            Files.writeString(clearRefs, "5");
            try (Tensor h = model.hessian(batch, scope)) {
                long peak = statusKiB("VmHWM");
                LOG.info("exact Hessian p = {}: peak RSS {} MB above the start", spec.numParameters(),
                        (peak - before) / 1024);
                assertTrue(peak - before < 700 * 1024, "the Hessian raised the peak RSS by " + (peak - before) / 1024
                        + " MB");
            }
        }
    }
}
