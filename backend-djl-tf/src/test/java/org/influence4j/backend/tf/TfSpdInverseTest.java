package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractSpdInverseTest;

/** The shared suite on DJL TensorFlow: {@code spdInverse} against closed forms, non-PD input and argument checks. */
class TfSpdInverseTest extends AbstractSpdInverseTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
