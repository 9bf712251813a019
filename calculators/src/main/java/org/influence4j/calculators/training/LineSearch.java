package org.influence4j.calculators.training;

/**
 * Line searches on an {@link Objective} along a descent direction d from θ. Both accept the
 * sufficient-decrease (Armijo) condition with a tiny slack of {@code 1e-14·(1+|J|)}, so that
 * progress measured in gradient norm is not blocked by rounding in J near the optimum.
 */
final class LineSearch {

    private static final double C1 = 1e-4;
    private static final double C2 = 0.9;

    private LineSearch() {
    }

    /** An accepted step: step length, new θ and J, ∇J there. */
    record Step(double alpha, double[] theta, Objective.ValueAndGradient evaluation) {
    }

    private static double[] move(double[] theta, double[] d, double alpha) {
        double[] out = new double[theta.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = theta[i] + alpha * d[i];
        }
        return out;
    }

    private static double slack(double f) {
        return 1e-14 * (1 + Math.abs(f));
    }

    /**
     * Backtracking from α = 1, halving up to 50 times; a trial is also accepted when J did not
     * rise beyond the slack and ‖∇J‖ fell (the Newton regime near the optimum).
     *
     * @return the step, or null if none was found
     */
    static Step backtracking(Objective objective, double[] theta, Objective.ValueAndGradient at, double[] d) {
        double f0 = at.value();
        double slope = Objective.dot(at.gradient(), d);
        double g0 = at.gradientNorm();
        double alpha = 1;
        for (int i = 0; i < 50; i++) {
            double[] trial = move(theta, d, alpha);
            Objective.ValueAndGradient e = tryEvaluate(objective, trial);
            if (e != null) {
                boolean armijo = e.value() <= f0 + C1 * alpha * slope + slack(f0);
                boolean flatButBetter = e.value() <= f0 + slack(f0) && e.gradientNorm() < g0;
                if (armijo || flatButBetter) {
                    return new Step(alpha, trial, e);
                }
            }
            alpha *= 0.5;
        }
        return null;
    }

    /**
     * A line search for the strong Wolfe conditions (Nocedal &amp; Wright, algorithms 3.5 and 3.6)
     * with c1 = 1e-4, c2 = 0.9, starting at {@code alpha0}.
     *
     * @return the step, or null if none was found in 40 evaluations
     */
    static Step strongWolfe(Objective objective, double[] theta, Objective.ValueAndGradient at, double[] d,
                            double alpha0) {
        double f0 = at.value();
        double slope0 = Objective.dot(at.gradient(), d);
        double prevAlpha = 0;
        Objective.ValueAndGradient prev = at;
        double alpha = alpha0;
        int evaluations = 0;
        while (evaluations < 40) {
            double[] trial = move(theta, d, alpha);
            Objective.ValueAndGradient e = tryEvaluate(objective, trial);
            evaluations++;
            if (e == null) {
                alpha = 0.5 * (prevAlpha + alpha);
                continue;
            }
            double slope = Objective.dot(e.gradient(), d);
            if (e.value() > f0 + C1 * alpha * slope0 + slack(f0) || (evaluations > 1 && e.value() >= prev.value())) {
                return zoom(objective, theta, d, f0, slope0, prevAlpha, prev, alpha, e, 40 - evaluations);
            }
            if (Math.abs(slope) <= -C2 * slope0) {
                return new Step(alpha, trial, e);
            }
            if (slope >= 0) {
                return zoom(objective, theta, d, f0, slope0, alpha, e, prevAlpha, prev, 40 - evaluations);
            }
            prevAlpha = alpha;
            prev = e;
            alpha *= 2;
        }
        return null;
    }

    private static Step zoom(Objective objective, double[] theta, double[] d, double f0, double slope0,
                             double lo, Objective.ValueAndGradient atLo, double hi, Objective.ValueAndGradient atHi,
                             int budget) {
        for (int i = 0; i < budget; i++) {
            double slopeLo = Objective.dot(atLo.gradient(), d);
            double alpha = interpolate(lo, atLo.value(), slopeLo, hi, atHi == null ? Double.NaN : atHi.value());
            double[] trial = move(theta, d, alpha);
            Objective.ValueAndGradient e = tryEvaluate(objective, trial);
            if (e == null || e.value() > f0 + C1 * alpha * slope0 + slack(f0) || e.value() >= atLo.value()) {
                hi = alpha;
                atHi = e;
            } else {
                double slope = Objective.dot(e.gradient(), d);
                if (Math.abs(slope) <= -C2 * slope0) {
                    return new Step(alpha, trial, e);
                }
                if (slope * (hi - lo) >= 0) {
                    hi = lo;
                    atHi = atLo;
                }
                lo = alpha;
                atLo = e;
            }
            if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) {
                break;
            }
        }
        return atLo.value() < f0 + slack(f0) && lo > 0 ? new Step(lo, move(theta, d, lo), atLo) : null;
    }

    /** Minimiser of the quadratic through (lo, f_lo, f'_lo) and (hi, f_hi), safeguarded into the interval. */
    private static double interpolate(double lo, double fLo, double slopeLo, double hi, double fHi) {
        double width = hi - lo;
        double mid = lo + 0.5 * width;
        if (!Double.isFinite(fHi)) {
            return mid;
        }
        double denom = 2 * (fHi - fLo - slopeLo * width);
        if (denom <= 0) {
            return mid;
        }
        double alpha = lo - slopeLo * width * width / denom;
        double min = Math.min(lo, hi);
        double max = Math.max(lo, hi);
        double margin = 0.1 * (max - min);
        if (!(alpha > min + margin && alpha < max - margin)) {
            return mid;
        }
        return alpha;
    }

    private static Objective.ValueAndGradient tryEvaluate(Objective objective, double[] theta) {
        for (double v : theta) {
            if (!Double.isFinite(v)) {
                return null;
            }
        }
        Objective.ValueAndGradient e = objective.valueAndGradient(theta);
        if (!Double.isFinite(e.value()) || !Double.isFinite(e.gradientNorm())) {
            return null;
        }
        return e;
    }
}
