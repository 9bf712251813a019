package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.backend.testkit.AbstractTensorTest;

/** The shared suite on DJL PyTorch: tensor algebra, shape errors, dtypes and scope ownership. */
class PtTensorTest extends AbstractTensorTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }

    @Override
    protected boolean isClosed(Tensor tensor) {
        return ((PtTensor) tensor).isClosed();
    }
}
