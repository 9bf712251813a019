package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelClosedFormTest;

/** The shared suite on ND4J: closed-form gradients and Hessians of one-Dense-layer models. */
class Nd4jModelClosedFormTest extends AbstractModelClosedFormTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
