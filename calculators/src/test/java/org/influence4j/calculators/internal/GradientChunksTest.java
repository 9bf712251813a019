package org.influence4j.calculators.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.influence4j.api.internal.GradientChunks;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostModel;
import org.junit.jupiter.api.Test;

/** Chunks of per-sample gradients shrink only for wide models. */
class GradientChunksTest {

    @Test
    void gradientChunksKeepTheirSizeUnlessTheGradientsWouldPassTheBudget() {
        ModelSpec wide = Fixtures.dense(70_000, 1, Loss.BINARY_LOGISTIC); // 70,001 float64 parameters: 560 KB a sample
        ModelSpec narrow = Fixtures.dense(4, 1, Loss.BINARY_LOGISTIC);
        try (HostModel w = new HostModel(wide, new double[wide.numParameters()]);
             HostModel n = new HostModel(narrow, new double[narrow.numParameters()])) {
            long perSample = 70_001L * Double.BYTES;
            assertEquals((int) (GradientChunks.GRADIENT_CHUNK_BYTES / perSample), GradientChunks.bounded(w, 512));
            assertEquals(100, GradientChunks.bounded(w, 100));
            assertEquals(512, GradientChunks.bounded(n, 512));
        }
    }
}
