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
 */
public record DirectOptions(boolean allowIndefinite) {

    /** {@code allow_indefinite}: solve an indefinite H + λI by LU instead of refusing it. */
    public static final Setting<Boolean> ALLOW_INDEFINITE = Setting.ofBoolean("allow_indefinite", false,
            "solve an indefinite H + lambda*I by LU (with a warning) instead of refusing it");

    /** Every setting of the direct method, declared once: the keys {@code influence.inversion.direct.*}. */
    public static final List<Setting<?>> SETTINGS = List.of(ALLOW_INDEFINITE);

    /** @return every setting at its declared default (indefinite matrices refused) */
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
        return new DirectOptions(s.get(ALLOW_INDEFINITE));
    }
}
