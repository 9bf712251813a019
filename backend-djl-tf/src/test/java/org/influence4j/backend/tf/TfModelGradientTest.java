package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelGradientTest;

/** The shared suite on DJL TensorFlow: losses, gradients and per-sample gradients against plain-Java references. */
class TfModelGradientTest extends AbstractModelGradientTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
