package org.influence4j.backend.pytorch;

import java.io.IOException;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.io.data.ArrayDataSource;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.NativeModelOptions;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;
import org.influence4j.backend.testkit.GraphFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory stays flat over thousands of exact HVPs (libtorch's create_graph reference cycle
 * would grow RSS by roughly 80 KB per HVP on the MLP, i.e. about 400 MB over the loop), also for a
 * TorchScript module: before its derivatives went through {@code torch.autograd.grad}, every HVP
 * reloaded the module and left the copy in a parameter↔gradient cycle, about 25 KB per HVP on the
 * 4-input MLP fixture.
 */
class PtModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

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
}
