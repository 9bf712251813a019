package org.influence4j.backend.tf;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;

/**
 * Native memory stays flat over thousands of exact HVPs: every session run creates TensorFlow feed
 * and result tensors and eager result tensors, all of which must be freed.
 *
 * <p>The layer-graph (CNN) test counts 2 × 250 HVPs here: eager TensorFlow takes about 69 ms per HVP
 * of the lenet fixture, so the full 5,000 would take 11 minutes. Measured in full on 2026-12-05
 * (2,000 warm-up, 3 × 2,500): RSS minus committed heap grew by 1.3 MB over 5,000 HVPs.
 */
class TfModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

    @Override
    protected Backend backend() {
        return TfBackendProvider.backend();
    }

    @Override
    protected int cnnHvpsPerRound() {
        return 250;
    }
}
