package org.influence4j.backend.pytorch;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;

/**
 * Native memory stays flat over thousands of exact HVPs (libtorch's create_graph reference cycle
 * would grow RSS by roughly 80 KB per HVP on this model, i.e. about 400 MB over the loop).
 */
class PtModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

    @Override
    protected Backend backend() {
        return PtBackendProvider.backend();
    }
}
