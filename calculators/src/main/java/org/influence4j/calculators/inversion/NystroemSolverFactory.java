package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link NystroemSolver}s for every model type ({@link InversionMethod#NYSTROEM}). Settings
 * (prefix {@code influence.inversion.nystroem.}): those declared in {@link NystroemOptions#SETTINGS}.
 * Unknown keys are an error.
 */
public final class NystroemSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the sketch rank. */
    public static final String RANK = NystroemOptions.RANK.key();
    /** Setting key of the seed. */
    public static final String SEED = NystroemOptions.SEED.key();

    @Override
    public InversionMethod method() {
        return InversionMethod.NYSTROEM;
    }

    /** @return {@link NystroemOptions#SETTINGS} */
    @Override
    public List<Setting<?>> settings() {
        return NystroemOptions.SETTINGS;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        return new NystroemSolver(NystroemOptions.from(settings));
    }

    @Override
    public String toString() {
        return "NystroemSolverFactory[" + modelType() + ", nystroem]";
    }
}
