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

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new StreamingTopK(1, 0, TopKOrder.PROPONENTS));
        assertThrows(IllegalArgumentException.class, () -> new StreamingTopK(0, 3, TopKOrder.PROPONENTS));
        StreamingTopK s = new StreamingTopK(1, 3, TopKOrder.PROPONENTS);
        s.accept(new double[] {1, 2}, 2, 0);
        assertThrows(IllegalArgumentException.class, () -> s.result(2));
    }
}
