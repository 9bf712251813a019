package org.influence4j.backend.nd4j;

import org.influence4j.api.Backend;
import org.influence4j.backend.testkit.AbstractModelNativeMemoryTest;

/**
 * Native memory stays flat over 5,000 exact HVPs: every temporary buffer of the R-operator pass is
 * closed at once (an unclosed pass would hold about 300 KB per HVP on this model until the garbage
 * collector ran).
 *
 * <p>The module's surefire configuration runs this with {@code -Xmx256m} and
 * {@code MALLOC_ARENA_MAX=2}, because ND4J frees small per-operation native objects only through the
 * garbage collector (see {@code Nd4jArena}).
 *
 * <p>The layer-graph (CNN) test counts 2 × 250 HVPs here: ND4J takes about 40 ms per HVP of the
 * lenet fixture, so the full 5,000 would take 7 minutes. Measured in full on 2026-12-05 (2,000
 * warm-up, 3 × 2,500): RSS minus committed heap grew by 0.3 MB over 5,000 HVPs.
 */
class Nd4jModelNativeMemoryTest extends AbstractModelNativeMemoryTest {

    @Override
    protected Backend backend() {
        return Nd4jBackendProvider.backend();
    }

    @Override
    protected int cnnHvpsPerRound() {
        return 250;
    }
}
