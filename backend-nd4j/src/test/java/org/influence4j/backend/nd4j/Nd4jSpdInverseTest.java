package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractSpdInverseTest;

/** The shared suite on ND4J: {@code spdInverse} against closed forms, non-PD input and argument checks. */
class Nd4jSpdInverseTest extends AbstractSpdInverseTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
