package org.influence4j.calculators.attribution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Streaming top-k against a full stable sort, with many ties. */
class StreamingTopKTest {

    @Test
    void anyChunkingEqualsAStableSortOfTheFullRow() {
        SplittableRandom random = new SplittableRandom(3);
        int m = 5;
        int n = 203;
        double[] full = new double[m * n];
        for (int i = 0; i < full.length; i++) {
            full[i] = random.nextInt(9) - 4; // many ties
        }
        for (TopKOrder order : TopKOrder.values()) {
            for (int chunk : new int[] {1, 7, 64, 203}) {
                StreamingTopK s = new StreamingTopK(m, 11, order);
                for (int from = 0; from < n; from += chunk) {
                    int c = Math.min(chunk, n - from);
                    double[] block = new double[m * c];
                    for (int i = 0; i < m; i++) {
                        System.arraycopy(full, i * n + from, block, i * c, c);
                    }
                    s.accept(block, c, from);
                }
                TopK result = s.result(n);
                for (int i = 0; i < m; i++) {
                    final int row = i;
                    Comparator<Integer> cmp = Comparator.comparingDouble(j -> full[row * n + j]);
                    if (order == TopKOrder.PROPONENTS) {
                        cmp = cmp.reversed();
                    }
                    long[] expected = IntStream.range(0, n).boxed().sorted(cmp) // stable: ties keep index order
                            .limit(11).mapToLong(Integer::longValue).toArray();
                    assertArrayEquals(expected, result.indices(i), order + " chunk " + chunk + " row " + i);
                    double[] scores = Arrays.stream(expected).mapToDouble(j -> full[row * n + (int) j]).toArray();
                    assertArrayEquals(scores, result.scores(i));
                }
            }
        }
    }

    /**
     * Blocks fed out of order (last columns first, the rows in two parts) with NaNs, infinities and
     * ties: a score strictly worse than a full heap's head is skipped without the exact test, which
     * must not change the selection (the newcomer's index can be smaller than the head's here).
     */
    @Test
    void blocksInAnyOrderWithNaNsInfinitiesAndTiesEqualTheFullRanking() {
        SplittableRandom random = new SplittableRandom(11);
        double[] values = {Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, -1, 0, 0, 1, 2};
        int m = 6;
        int n = 97;
        int k = 9;
        double[] full = new double[m * n];
        for (int i = 0; i < full.length; i++) {
            full[i] = values[random.nextInt(values.length)];
        }
        for (TopKOrder order : TopKOrder.values()) {
            StreamingTopK s = new StreamingTopK(m, k, order);
            int chunk = 10;
            for (int from = (n - 1) / chunk * chunk; from >= 0; from -= chunk) {
                int c = Math.min(chunk, n - from);
                for (int[] rows : new int[][] {{0, 4}, {4, m}}) {
                    double[] block = new double[(rows[1] - rows[0]) * c];
                    for (int i = rows[0]; i < rows[1]; i++) {
                        System.arraycopy(full, i * n + from, block, (i - rows[0]) * c, c);
                    }
                    s.accept(block, rows[0], rows[1] - rows[0], c, from);
                }
            }
            TopK result = s.result(n);
            for (int i = 0; i < m; i++) {
                final int row = i;
                long[] expected = IntStream.range(0, n).boxed()
                        .sorted((a, b) -> a.equals(b) ? 0 : order.ranksBefore(full[row * n + a], a,
                                full[row * n + b], b) ? -1 : 1)
                        .limit(k).mapToLong(Integer::longValue).toArray();
                assertArrayEquals(expected, result.indices(i), order + " row " + i);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new StreamingTopK(1, 0, TopKOrder.PROPONENTS));
        assertThrows(IllegalArgumentException.class, () -> new StreamingTopK(0, 3, TopKOrder.PROPONENTS));
        StreamingTopK s = new StreamingTopK(1, 3, TopKOrder.PROPONENTS);
        s.accept(new double[] {1, 2}, 2, 0);
        assertThrows(IllegalArgumentException.class, () -> s.result(2));
    }
}
