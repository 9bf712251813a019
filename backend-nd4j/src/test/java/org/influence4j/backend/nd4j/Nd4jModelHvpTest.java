package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelHvpTest;

/** The shared suite on ND4J: exact HVPs against finite differences, block and full-Hessian consistency. */
class Nd4jModelHvpTest extends AbstractModelHvpTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
