package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;

/**
 * Native memory stays flat over thousands of exact HVPs: every session run creates TensorFlow feed
 * and result tensors and eager result tensors, all of which must be freed.
 */
class TfModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }
}
