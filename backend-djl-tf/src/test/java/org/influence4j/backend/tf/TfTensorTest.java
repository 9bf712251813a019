package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.backend.testkit.AbstractTensorTest;

/** The shared suite on DJL TensorFlow: tensor algebra, shape errors, dtypes and scope ownership. */
class TfTensorTest extends AbstractTensorTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }

    @Override
    protected boolean isClosed(Tensor tensor) {
        return ((TfTensor) tensor).isClosed();
    }
}
