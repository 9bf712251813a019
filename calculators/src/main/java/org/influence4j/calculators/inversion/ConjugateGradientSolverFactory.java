package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link ConjugateGradientSolver}s for every model type ({@link InversionMethod#CG}).
 * Settings (configuration prefix {@code influence.inversion.cg.}): those declared in
 * {@link CgOptions#SETTINGS}, with their types, defaults and documentation. Unknown keys are an
 * error. Registered as a {@code META-INF/services} provider.
 */
public final class ConjugateGradientSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the relative tolerance. */
    public static final String RTOL = CgOptions.RTOL.key();
    /** Setting key of the absolute tolerance. */
    public static final String ATOL = CgOptions.ATOL.key();
    /** Setting key of the iteration limit. */
    public static final String MAXITER = CgOptions.MAXITER.key();
    /** Setting key of the block-CG flag. */
    public static final String BLOCK = CgOptions.BLOCK.key();
    /** Setting key of the preconditioner. */
    public static final String PRECONDITIONER = CgOptions.PRECONDITIONER.key();
    /** Setting key of the Nyström preconditioner rank. */
    public static final String PRECONDITIONER_RANK = CgOptions.PRECONDITIONER_RANK.key();
    /** Setting key of the number of Hutchinson probes. */
    public static final String HUTCHINSON_PROBES = CgOptions.HUTCHINSON_PROBES.key();
    /** Setting key of the seed. */
    public static final String SEED = CgOptions.SEED.key();
    /** Setting key of the precompute flag. */
    public static final String PRECOMPUTE = CgOptions.PRECOMPUTE.key();
    /** Setting key of the flag that keeps the solutions of an unconverged solve. */
    public static final String ALLOW_UNCONVERGED = CgOptions.ALLOW_UNCONVERGED.key();

    @Override
    public InversionMethod method() {
        return InversionMethod.CG;
    }

    /** @return {@link CgOptions#SETTINGS} */
    @Override
    public List<Setting<?>> settings() {
        return CgOptions.SETTINGS;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        return new ConjugateGradientSolver(CgOptions.from(settings));
    }

    @Override
    public String toString() {
        return "ConjugateGradientSolverFactory[" + modelType() + ", cg]";
    }
}
