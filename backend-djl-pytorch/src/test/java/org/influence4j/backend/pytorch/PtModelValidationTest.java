package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelValidationTest;

/** The shared suite on DJL PyTorch: bad input is rejected with a message naming the argument. */
class PtModelValidationTest extends AbstractModelValidationTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
