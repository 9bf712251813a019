package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelValidationTest;

/** The shared suite on DJL TensorFlow: bad input is rejected with a message naming the argument. */
class TfModelValidationTest extends AbstractModelValidationTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
