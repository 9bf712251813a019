package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelLayerFactorsAndMixedTest;

/** The shared suite on DJL PyTorch: per-layer gradient factors and mixed derivatives. */
class PtModelLayerFactorsAndMixedTest extends AbstractModelLayerFactorsAndMixedTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
