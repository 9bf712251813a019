package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.backend.testkit.AbstractTensorTest;

/** The shared suite on ND4J: tensor algebra, shape errors, dtypes and scope ownership. */
class Nd4jTensorTest extends AbstractTensorTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }

    @Override
    protected boolean isClosed(Tensor tensor) {
        return ((Nd4jTensor) tensor).isClosed();
    }
}
