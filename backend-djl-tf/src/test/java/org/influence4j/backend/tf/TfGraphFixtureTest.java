package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractGraphFixtureTest;

/** The layer-graph fixtures on DJL TensorFlow (eager kernels): outputs and derivatives equal PyTorch's own. */
class TfGraphFixtureTest extends AbstractGraphFixtureTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
