package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractGraphFixtureTest;

/** The layer-graph fixtures on ND4J: outputs and derivatives equal PyTorch's own. */
class Nd4jGraphFixtureTest extends AbstractGraphFixtureTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
