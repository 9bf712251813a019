package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link NystroemSolver}s for every model type ({@link InversionMethod#NYSTROEM}). Settings
 * (prefix {@code influence.inversion.nystroem.}): {@code rank} (default 10), {@code seed} (0).
 * Unknown keys are an error.
 */
public final class NystroemSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the sketch rank. */
    public static final String RANK = "rank";
    /** Setting key of the seed. */
    public static final String SEED = "seed";

    @Override
    public InversionMethod method() {
        return InversionMethod.NYSTROEM;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireOnly("nystroem", Set.of(RANK, SEED));
        return new NystroemSolver(new NystroemOptions(s.getInt(RANK, NystroemOptions.DEFAULT_RANK), s.getInt(SEED, 0)));
    }

    @Override
    public String toString() {
        return "NystroemSolverFactory[" + modelType() + ", nystroem]";
    }
}
