package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelLayerFactorsAndMixedTest;

/** The shared suite on ND4J: per-layer gradient factors and mixed derivatives. */
class Nd4jModelLayerFactorsAndMixedTest extends AbstractModelLayerFactorsAndMixedTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }
}
