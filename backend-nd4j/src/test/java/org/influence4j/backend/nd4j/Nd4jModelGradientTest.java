package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelGradientTest;

/** The shared suite on ND4J: losses, gradients and per-sample gradients against plain-Java references. */
class Nd4jModelGradientTest extends AbstractModelGradientTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
