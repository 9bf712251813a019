package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Settings of the {@link DirectSolver}, each declared once as a {@link Setting} ({@link #SETTINGS}).
 *
 * @param allowIndefinite {@code false} ({@link #ALLOW_INDEFINITE}'s default): an indefinite
 *                        {@code H + λI} (a clearly negative eigenvalue: the parameters are not at a
 *                        minimum) is refused with an {@link org.influence4j.api.inversion.InversionException}
 *                        of reason {@code NEGATIVE_CURVATURE}; {@code true}: it is solved by LU with partial
 *                        pivoting and every solve's diagnostics carry a warning. A numerically singular
 *                        matrix is refused either way.
 * @param exactResiduals  {@code false} ({@link #EXACT_RESIDUALS}'s default): each solve's relative
 *                        residuals {@code ‖b − A x‖ / ‖b‖} are measured through a fixed Gaussian
 *                        sketch of 64 columns (unbiased; below half the residual with probability
 *                        1.3e-10 per row);
 *                        {@code true}: they are measured exactly, at the cost of a second
 *                        {@code [k, p]·[p, p]} matrix product per solve
 */
public record DirectOptions(boolean allowIndefinite, boolean exactResiduals) {

    /** {@code allow_indefinite}: solve an indefinite H + λI by LU instead of refusing it. */
    public static final Setting<Boolean> ALLOW_INDEFINITE = Setting.ofBoolean("allow_indefinite", false,
            "solve an indefinite H + lambda*I by LU (with a warning) instead of refusing it");

    /** {@code exact_residuals}: measure each solve's residuals by a full product instead of a sketch. */
    public static final Setting<Boolean> EXACT_RESIDUALS = Setting.ofBoolean("exact_residuals", false,
            "measure each solve's relative residuals by a full product with H + lambda*I instead of a"
            + " 64-column Gaussian sketch of it");

    /** Every setting of the direct method, declared once: the keys {@code influence.inversion.direct.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(ALLOW_INDEFINITE, EXACT_RESIDUALS);

    /** @return every setting at its declared default (indefinite matrices refused, sketched residuals) */
    public static DirectOptions defaults() {
        return from(SolverSettings.empty());
    }

    /**
     * @param settings short-keyed settings ({@link #SETTINGS}); missing ones take their defaults
     * @return the options
     * @throws IllegalArgumentException naming an unknown key or a bad value
     */
    public static DirectOptions from(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireDeclared("direct", SETTINGS);
        return new DirectOptions(s.get(ALLOW_INDEFINITE), s.get(EXACT_RESIDUALS));
    }
}
