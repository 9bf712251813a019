package org.influence4j.calculators.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CorrelationTest {

    @Test
    void spearmanIsPearsonOfAveragedRanks() {
        // ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): r = 4.5 / sqrt(4.5 · 5) = 3 / sqrt(10)
        assertEquals(3 / Math.sqrt(10), Correlation.spearman(new double[] {1, 2, 2, 3}, new double[] {1, 3, 2, 4}),
                1e-15);
        assertEquals(1.0, Correlation.spearman(new double[] {0.1, 5, 7, 100}, new double[] {-3, 0, 1, 2}), 1e-15);
        assertEquals(-1.0, Correlation.spearman(new double[] {1, 2, 3}, new double[] {9, 4, 1}), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Correlation.spearman(new double[] {1}, new double[] {1}));
    }
}
