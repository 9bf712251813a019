package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link LissaSolver}s for every model type ({@link InversionMethod#LISSA}). Settings
 * (prefix {@code influence.inversion.lissa.}): those declared in {@link LissaOptions#SETTINGS}.
 * Unknown keys are an error.
 */
public final class LissaSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the iteration limit. */
    public static final String MAXITER = LissaOptions.MAXITER.key();
    /** Setting key of the dampening. */
    public static final String DAMPEN = LissaOptions.DAMPEN.key();
    /** Setting key of the scale. */
    public static final String SCALE = LissaOptions.SCALE.key();
    /** Setting key of the tolerance. */
    public static final String RTOL = LissaOptions.RTOL.key();
    /** Setting key of the mini-batch size. */
    public static final String BATCH_SIZE = LissaOptions.BATCH_SIZE.key();

    @Override
    public InversionMethod method() {
        return InversionMethod.LISSA;
    }

    /** @return {@link LissaOptions#SETTINGS} */
    @Override
    public List<Setting<?>> settings() {
        return LissaOptions.SETTINGS;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        return new LissaSolver(LissaOptions.from(settings));
    }

    @Override
    public String toString() {
        return "LissaSolverFactory[" + modelType() + ", lissa]";
    }
}
