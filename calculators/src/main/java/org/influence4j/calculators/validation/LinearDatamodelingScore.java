package org.influence4j.calculators.validation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.calculators.attribution.TrainingDataAttribution;

/**
 * The linear datamodeling score (LDS, Park et al. 2023, TRAK; as used by the dattri benchmark) of
 * any attribution method on the user's own model and data.
 *
 * <p><b>Definition.</b> M random subsets S_k of the n training points, each of ⌊α·n⌉ points drawn
 * without replacement from a seeded generator. The model is retrained on every subset (by a
 * {@link Retrainer}). For test point i the attribution predicts {@code g_i(S_k) = Σ_{j∈S_k} τ(i, j)}
 * and the retraining measures {@code f_i(S_k) = −ℓ_i(θ_{S_k})}, the negated test loss (so that the
 * project's sign convention — positive score = proponent, lowers the test loss — gives a positive
 * correlation). {@code LDS_i = Spearman_k(g_i, f_i)}; the LDS is the mean of LDS_i over the test
 * points whose values are not constant (those are counted in {@link Result#undefined()}).
 */
public final class LinearDatamodelingScore {

    /**
     * @param subsets  number of subsets M (retrainings), at least 3
     * @param fraction α in (0, 1): the share of training points in each subset
     * @param seed     seed of the subset sampling
     */
    public record Options(int subsets, double fraction, long seed) {

        /** @throws IllegalArgumentException naming the argument out of range */
        public Options {
            if (subsets < 3) {
                throw new IllegalArgumentException("subsets: need at least 3 retrainings, got " + subsets);
            }
            if (!(fraction > 0 && fraction < 1)) {
                throw new IllegalArgumentException("fraction: must be in (0, 1), got " + fraction);
            }
        }

        /** @return 50 subsets of 50% (dattri's default setting), seed 0 */
        public static Options defaults() {
            return new Options(50, 0.5, 0);
        }
    }

    /**
     * @param lds       mean of the per-test-point correlations (NaN if all are undefined)
     * @param perTest   LDS_i for each test point (NaN where undefined)
     * @param undefined number of test points whose predicted or actual values were constant
     * @param subsets   the sampled subsets
     * @param actual    {@code [M][m]} test losses after each retraining
     */
    public record Result(double lds, double[] perTest, int undefined, int[][] subsets, double[][] actual) {
    }

    private final Options options;

    /** @param options subsets, fraction and seed */
    public LinearDatamodelingScore(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use LinearDatamodelingScore.Options.defaults()");
        }
        this.options = options;
    }

    /** @return the options */
    public Options options() {
        return options;
    }

    /**
     * The seeded subsets for n training points (the same for every method, so methods are compared
     * on the same retrainings).
     *
     * @throws IllegalArgumentException if a subset would be empty or hold all points
     */
    public int[][] subsets(int n) {
        int size = (int) Math.round(options.fraction() * n);
        if (size < 1 || size >= n) {
            throw new IllegalArgumentException("fraction: " + options.fraction() + " of " + n
                    + " training points gives subsets of " + size + "; need between 1 and n - 1");
        }
        SplittableRandom random = new SplittableRandom(options.seed());
        int[][] out = new int[options.subsets()][];
        int[] order = new int[n];
        for (int k = 0; k < out.length; k++) {
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            for (int i = 0; i < size; i++) {
                int j = i + random.nextInt(n - i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            int[] s = Arrays.copyOf(order, size);
            Arrays.sort(s);
            out[k] = s;
        }
        return out;
    }

    /**
     * Retrains on every subset (M calls of {@code retrainer}).
     *
     * @return {@code [M][m]} test losses
     */
    public double[][] retrain(int n, Retrainer retrainer) {
        if (retrainer == null) {
            throw new IllegalArgumentException("retrainer: must not be null");
        }
        int[][] subsets = subsets(n);
        double[][] actual = new double[subsets.length][];
        for (int k = 0; k < subsets.length; k++) {
            actual[k] = retrainer.testLosses(subsets[k]);
        }
        return actual;
    }

    /**
     * LDS of a score matrix against retraining outcomes (from {@link #retrain} with the same n).
     *
     * @param scores row-major {@code [m, n]}: τ(test i, train j)
     * @param actual {@code [M][m]} test losses per subset
     * @throws IllegalArgumentException if the shapes do not match
     */
    public Result score(double[] scores, int m, int n, double[][] actual) {
        if (scores == null || (long) m * n != scores.length || m <= 0) {
            throw new IllegalArgumentException("scores: need an [m, n] = [" + m + ", " + n + "] matrix, got "
                    + (scores == null ? "null" : scores.length + " values"));
        }
        int[][] subsets = subsets(n);
        if (actual == null || actual.length != subsets.length) {
            throw new IllegalArgumentException("actual: need one row of test losses per subset (" + subsets.length + ")");
        }
        double[] per = new double[m];
        int undefined = 0;
        double sum = 0;
        for (int i = 0; i < m; i++) {
            double[] g = new double[subsets.length];
            double[] f = new double[subsets.length];
            for (int k = 0; k < subsets.length; k++) {
                if (actual[k].length != m) {
                    throw new IllegalArgumentException("actual: row " + k + " has " + actual[k].length
                            + " losses, expected " + m);
                }
                double s = 0;
                for (int j : subsets[k]) {
                    s += scores[i * n + j];
                }
                g[k] = s;
                f[k] = -actual[k][i];
            }
            per[i] = Correlation.spearman(g, f);
            if (Double.isNaN(per[i])) {
                undefined++;
            } else {
                sum += per[i];
            }
        }
        double lds = undefined == m ? Double.NaN : sum / (m - undefined);
        return new Result(lds, per, undefined, subsets, actual);
    }

    /**
     * Retrains and scores one method in one call.
     *
     * @return the LDS of {@code method}'s scores of {@code train} on {@code test}
     */
    public Result evaluate(TrainingDataAttribution method, Batch test, Batch train, Retrainer retrainer,
                           TensorScope scope) {
        double[] scores = method.influences(test, train, scope).toDoubleArray();
        return score(scores, test.size(), train.size(), retrain(train.size(), retrainer));
    }

    /** @return several methods scored on the same retrainings (keys = {@code methods} order) */
    public List<Result> evaluateAll(List<double[]> scoreMatrices, int m, int n, Retrainer retrainer) {
        double[][] actual = retrain(n, retrainer);
        List<Result> out = new ArrayList<>();
        for (double[] s : scoreMatrices) {
            out.add(score(s, m, n, actual));
        }
        return out;
    }

    @Override
    public String toString() {
        return "LinearDatamodelingScore" + options;
    }
}
