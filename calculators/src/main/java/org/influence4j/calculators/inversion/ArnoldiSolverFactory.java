package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link ArnoldiSolver}s for every model type ({@link InversionMethod#ARNOLDI}). Settings
 * (prefix {@code influence.inversion.arnoldi.}): {@code rank_estimate} (default 10),
 * {@code krylov_dimension} (0 = min(p, max(2·rank + 1, 20))), {@code tol} (1e-6), {@code max_iter}
 * (restarts, 0 = 10·p), {@code seed} (0), {@code precompute} (false). Unknown keys are an error.
 */
public final class ArnoldiSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the rank. */
    public static final String RANK_ESTIMATE = "rank_estimate";
    /** Setting key of the Krylov dimension. */
    public static final String KRYLOV_DIMENSION = "krylov_dimension";
    /** Setting key of the tolerance. */
    public static final String TOL = "tol";
    /** Setting key of the restart limit. */
    public static final String MAX_ITER = "max_iter";
    /** Setting key of the seed. */
    public static final String SEED = "seed";
    /** Setting key of the precompute flag. */
    public static final String PRECOMPUTE = "precompute";

    @Override
    public InversionMethod method() {
        return InversionMethod.ARNOLDI;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireOnly("arnoldi", Set.of(RANK_ESTIMATE, KRYLOV_DIMENSION, TOL, MAX_ITER, SEED, PRECOMPUTE));
        return new ArnoldiSolver(new ArnoldiOptions(s.getInt(RANK_ESTIMATE, ArnoldiOptions.DEFAULT_RANK),
                s.getInt(KRYLOV_DIMENSION, 0), s.getDouble(TOL, ArnoldiOptions.DEFAULT_TOL), s.getInt(MAX_ITER, 0),
                s.getInt(SEED, 0), s.getBoolean(PRECOMPUTE, false)));
    }

    @Override
    public String toString() {
        return "ArnoldiSolverFactory[" + modelType() + ", arnoldi]";
    }
}
