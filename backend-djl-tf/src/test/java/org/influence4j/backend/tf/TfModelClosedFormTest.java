package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelClosedFormTest;

/** The shared suite on DJL TensorFlow: closed-form gradients and Hessians of one-Dense-layer models. */
class TfModelClosedFormTest extends AbstractModelClosedFormTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
