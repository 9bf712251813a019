package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link ArnoldiSolver}s for every model type ({@link InversionMethod#ARNOLDI}). Settings
 * (prefix {@code influence.inversion.arnoldi.}): those declared in {@link ArnoldiOptions#SETTINGS}.
 * Unknown keys are an error.
 */
public final class ArnoldiSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the rank. */
    public static final String RANK_ESTIMATE = ArnoldiOptions.RANK_ESTIMATE.key();
    /** Setting key of the Krylov dimension. */
    public static final String KRYLOV_DIMENSION = ArnoldiOptions.KRYLOV_DIMENSION.key();
    /** Setting key of the tolerance. */
    public static final String TOL = ArnoldiOptions.TOL.key();
    /** Setting key of the restart limit. */
    public static final String MAX_ITER = ArnoldiOptions.MAX_ITER.key();
    /** Setting key of the seed. */
    public static final String SEED = ArnoldiOptions.SEED.key();
    /** Setting key of the precompute flag. */
    public static final String PRECOMPUTE = ArnoldiOptions.PRECOMPUTE.key();

    @Override
    public InversionMethod method() {
        return InversionMethod.ARNOLDI;
    }

    /** @return {@link ArnoldiOptions#SETTINGS} */
    @Override
    public List<Setting<?>> settings() {
        return ArnoldiOptions.SETTINGS;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        return new ArnoldiSolver(ArnoldiOptions.from(settings));
    }

    @Override
    public String toString() {
        return "ArnoldiSolverFactory[" + modelType() + ", arnoldi]";
    }
}
