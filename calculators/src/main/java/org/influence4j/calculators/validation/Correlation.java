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
}
