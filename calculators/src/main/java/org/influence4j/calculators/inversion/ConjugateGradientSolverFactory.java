package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link ConjugateGradientSolver}s for every model type ({@link InversionMethod#CG}).
 * Settings (configuration prefix {@code influence.inversion.cg.}): {@code rtol}, {@code atol}
 * (doubles, default 1e-7) and {@code maxiter} (integer, default 0 = the dimension of the operator).
 * Unknown keys are an error. Registered as a {@code META-INF/services} provider.
 */
public final class ConjugateGradientSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the relative tolerance. */
    public static final String RTOL = "rtol";
    /** Setting key of the absolute tolerance. */
    public static final String ATOL = "atol";
    /** Setting key of the iteration limit. */
    public static final String MAXITER = "maxiter";

    @Override
    public InversionMethod method() {
        return InversionMethod.CG;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireOnly("cg", Set.of(RTOL, ATOL, MAXITER));
        CgOptions options = new CgOptions(s.getDouble(RTOL, CgOptions.DEFAULT_RTOL),
                s.getDouble(ATOL, CgOptions.DEFAULT_ATOL), s.getInt(MAXITER, 0));
        return new ConjugateGradientSolver(options);
    }

    @Override
    public String toString() {
        return "ConjugateGradientSolverFactory[" + modelType() + ", cg]";
    }
}
