package org.influence4j.backend.pytorch;

import ai.djl.pytorch.jni.JniUtils;
import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelGradientTest;

/** The shared suite on DJL PyTorch: losses, gradients and per-sample gradients against plain-Java references. */
class PtModelGradientTest extends AbstractModelGradientTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }

    /** libtorch's per-thread grad mode, which every model call must restore. */
    @Override
    protected Boolean threadState() {
        return JniUtils.isGradMode();
    }
}
