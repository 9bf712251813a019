package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractGraphFixtureTest;

/** The layer-graph fixtures on DJL PyTorch: outputs and derivatives equal PyTorch's own. */
class PtGraphFixtureTest extends AbstractGraphFixtureTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
