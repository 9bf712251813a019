package org.influence4j.calculators.validation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** LDS with a synthetic retraining outcome that is exactly additive over training points. */
class LinearDatamodelingScoreTest {

    private static final int M = 20;
    private static final int N = 80;

    @Test
    void trueAttributionScoresOneAndRandomScoresNearZero() {
        SplittableRandom random = new SplittableRandom(11);
        double[] truth = new double[M * N];
        double[] noise = new double[M * N];
        for (int i = 0; i < truth.length; i++) {
            truth[i] = random.nextDouble(-1, 1);
            noise[i] = random.nextDouble(-1, 1);
        }
        // additive outcome: loss_i(S) = 3 − Σ_{j∈S} τ(i,j)   (proponents lower the loss)
        Retrainer additive = subset -> {
            double[] losses = new double[M];
            for (int i = 0; i < M; i++) {
                losses[i] = 3;
                for (int j : subset) {
                    losses[i] -= truth[i * N + j];
                }
            }
            return losses;
        };
        LinearDatamodelingScore lds = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(50, 0.5, 7));
        double[][] actual = lds.retrain(N, additive);
        LinearDatamodelingScore.Result exact = lds.score(truth, M, N, actual);
        assertEquals(1.0, exact.lds(), 1e-12);
        LinearDatamodelingScore.Result rnd = lds.score(noise, M, N, actual);
        assertTrue(Math.abs(rnd.lds()) < 0.1, "random LDS " + rnd.lds());
        // sign convention: negated scores give −1
        double[] negated = truth.clone();
        for (int i = 0; i < negated.length; i++) {
            negated[i] = -negated[i];
        }
        assertEquals(-1.0, lds.score(negated, M, N, actual).lds(), 1e-12);
        // subsets are seeded, of the right size, sorted and distinct
        int[][] s1 = lds.subsets(N);
        int[][] s2 = lds.subsets(N);
        assertEquals(50, s1.length);
        for (int k = 0; k < s1.length; k++) {
            assertEquals(40, s1[k].length);
            assertTrue(java.util.Arrays.equals(s1[k], s2[k]));
            for (int r = 1; r < s1[k].length; r++) {
                assertTrue(s1[k][r] > s1[k][r - 1]);
            }
        }
    }

    @Test
    void badOptionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LinearDatamodelingScore.Options(2, 0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinearDatamodelingScore.Options(10, 1.0, 0));
        LinearDatamodelingScore lds = new LinearDatamodelingScore(LinearDatamodelingScore.Options.defaults());
        assertThrows(IllegalArgumentException.class, () -> lds.score(new double[5], 2, 3, new double[50][2]));
    }

    @Test
    void spearmanUsesAverageRanks() {
        // ranks of {1, 2, 2, 3} = {1, 2.5, 2.5, 4}; of {10, 20, 30, 40} = {1, 2, 3, 4}
        double expected = Correlation.pearson(new double[] {1, 2.5, 2.5, 4}, new double[] {1, 2, 3, 4});
        assertEquals(expected, Correlation.spearman(new double[] {1, 2, 2, 3}, new double[] {10, 20, 30, 40}), 1e-15);
        assertEquals(1.0, Correlation.spearman(new double[] {1, 5, 9}, new double[] {-3, 0, 100}), 1e-15);
        assertEquals(-1.0, Correlation.spearman(new double[] {1, 5, 9}, new double[] {3, 2, 1}), 1e-15);
    }
}
