package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelClosedFormTest;

/** The shared suite on DJL PyTorch: closed-form gradients and Hessians of one-Dense-layer models. */
class PtModelClosedFormTest extends AbstractModelClosedFormTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
