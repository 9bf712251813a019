package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelLayerFactorsAndMixedTest;

/** The shared suite on DJL TensorFlow: per-layer gradient factors and mixed derivatives. */
class TfModelLayerFactorsAndMixedTest extends AbstractModelLayerFactorsAndMixedTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
