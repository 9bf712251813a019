package org.influence4j.calculators.validation;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Compares predicted and actual changes of the test loss when groups of training points are
 * removed and the model retrained (by a {@link Retrainer} with the same loss normalizer as the
 * original training, e.g. {@link Retrainers#newton} with {@code ObjectiveOptions.withLossNormalizer(n)}).
 */
public final class LeaveGroupOut {

    /**
     * @param groups    the removed groups
     * @param predicted the predicted change of the mean test loss per group
     * @param actual    the measured change of the mean test loss per group
     * @param pearson   Pearson's r of predicted and actual
     */
    public record Comparison(int[][] groups, double[] predicted, double[] actual, double pearson) {
    }

    private LeaveGroupOut() {
    }

    /**
     * Retrains once without each group and once on all n points (the baseline).
     *
     * @param n         the number of training points
     * @param groups    groups of training indices to remove (at least 2 groups)
     * @param predicted the predicted change of the mean test loss for each group
     * @throws IllegalArgumentException if the counts differ or an index is out of range
     */
    public static Comparison compare(int n, int[][] groups, double[] predicted, Retrainer retrainer) {
        if (groups == null || predicted == null || groups.length != predicted.length || groups.length < 2) {
            throw new IllegalArgumentException("groups: need at least 2 groups and one prediction per group");
        }
        double base = mean(retrainer.testLosses(IntStream.range(0, n).toArray()));
        double[] actual = new double[groups.length];
        for (int g = 0; g < groups.length; g++) {
            boolean[] removed = new boolean[n];
            for (int i : groups[g]) {
                if (i < 0 || i >= n) {
                    throw new IllegalArgumentException("groups: index " + i + " is outside [0, " + n + ")");
                }
                removed[i] = true;
            }
            int[] keep = IntStream.range(0, n).filter(i -> !removed[i]).toArray();
            actual[g] = mean(retrainer.testLosses(keep)) - base;
        }
        int[][] copy = Arrays.stream(groups).map(int[]::clone).toArray(int[][]::new);
        return new Comparison(copy, predicted.clone(), actual, Correlation.pearson(predicted, actual));
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }
}
