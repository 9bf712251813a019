package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link LissaSolver}s for every model type ({@link InversionMethod#LISSA}). Settings
 * (prefix {@code influence.inversion.lissa.}): {@code maxiter} (1000), {@code dampen} (0),
 * {@code scale} (10), {@code rtol} (1e-4), {@code batch_size} (0 = full data per iteration).
 * Unknown keys are an error.
 */
public final class LissaSolverFactory implements InverseHvpSolverFactory {

    /** Setting key of the iteration limit. */
    public static final String MAXITER = "maxiter";
    /** Setting key of the dampening. */
    public static final String DAMPEN = "dampen";
    /** Setting key of the scale. */
    public static final String SCALE = "scale";
    /** Setting key of the tolerance. */
    public static final String RTOL = "rtol";
    /** Setting key of the mini-batch size. */
    public static final String BATCH_SIZE = "batch_size";

    @Override
    public InversionMethod method() {
        return InversionMethod.LISSA;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        SolverSettings s = settings == null ? SolverSettings.empty() : settings;
        s.requireOnly("lissa", Set.of(MAXITER, DAMPEN, SCALE, RTOL, BATCH_SIZE));
        return new LissaSolver(new LissaOptions(s.getInt(MAXITER, LissaOptions.DEFAULT_MAXITER), s.getDouble(DAMPEN, 0),
                s.getDouble(SCALE, LissaOptions.DEFAULT_SCALE), s.getDouble(RTOL, LissaOptions.DEFAULT_RTOL),
                s.getInt(BATCH_SIZE, 0)));
    }

    @Override
    public String toString() {
        return "LissaSolverFactory[" + modelType() + ", lissa]";
    }
}
