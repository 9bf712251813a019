package org.influence4j.calculators.validation;

/** Correlation coefficients of paired samples. */
public final class Correlation {

    private Correlation() {
    }

    /**
     * Pearson's r.
     *
     * @return r in [-1, 1], or NaN when either sample is constant
     * @throws IllegalArgumentException if the lengths differ or fewer than 2 pairs are given
     */
    public static double pearson(double[] a, double[] b) {
        if (a.length != b.length || a.length < 2) {
            throw new IllegalArgumentException("pearson: need two samples of equal length >= 2, got "
                    + a.length + " and " + b.length);
        }
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    /**
     * Spearman's rank correlation: Pearson's r of the ranks, tied values sharing their average rank.
     *
     * @return ρ in [-1, 1], or NaN when either sample is constant
     * @throws IllegalArgumentException if the lengths differ or fewer than 2 pairs are given
     */
    public static double spearman(double[] a, double[] b) {
        if (a.length != b.length || a.length < 2) {
            throw new IllegalArgumentException("spearman: need two samples of equal length >= 2, got "
                    + a.length + " and " + b.length);
        }
        return pearson(ranks(a), ranks(b));
    }

    /** @return the 1-based ranks of {@code values}, ties averaged */
    static double[] ranks(double[] values) {
        int n = values.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(values[x], values[y]));
        double[] ranks = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && Double.compare(values[order[j + 1]], values[order[i]]) == 0) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                ranks[order[k]] = rank;
            }
            i = j + 1;
        }
        return ranks;
    }
}
