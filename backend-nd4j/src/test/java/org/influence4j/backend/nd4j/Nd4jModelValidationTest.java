package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelValidationTest;

/** The shared suite on ND4J: bad input is rejected with a message naming the argument. */
class Nd4jModelValidationTest extends AbstractModelValidationTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
