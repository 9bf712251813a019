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
     * Spearman's ρ: Pearson's r of the ranks, ties given their average rank.
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

    /** @return 1-based ranks of {@code x}, ties averaged; NaN is not allowed */
    static double[] ranks(double[] x) {
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < x.length; i++) {
            if (Double.isNaN(x[i])) {
                throw new IllegalArgumentException("spearman: sample contains NaN at index " + i);
            }
            order[i] = i;
        }
        java.util.Arrays.sort(order, (i, j) -> Double.compare(x[i], x[j]));
        double[] r = new double[x.length];
        int i = 0;
        while (i < x.length) {
            int j = i;
            while (j + 1 < x.length && x[order[j + 1]] == x[order[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) {
                r[order[t]] = rank;
            }
            i = j + 1;
        }
        return r;
    }
}
