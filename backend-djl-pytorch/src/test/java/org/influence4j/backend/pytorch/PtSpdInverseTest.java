package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractSpdInverseTest;

/** The shared suite on DJL PyTorch: {@code spdInverse} against closed forms, non-PD input and argument checks. */
class PtSpdInverseTest extends AbstractSpdInverseTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
