package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelHvpTest;

/** The shared suite on DJL TensorFlow: exact HVPs against finite differences, block and full-Hessian consistency. */
class TfModelHvpTest extends AbstractModelHvpTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
