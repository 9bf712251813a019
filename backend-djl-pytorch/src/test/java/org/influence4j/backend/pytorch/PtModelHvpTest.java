package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelHvpTest;

/** The shared suite on DJL PyTorch: exact HVPs against finite differences, block and full-Hessian consistency. */
class PtModelHvpTest extends AbstractModelHvpTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
