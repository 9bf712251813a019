package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link DirectSolver}s for every model type ({@link InversionMethod#DIRECT}). Settings
 * (configuration prefix {@code influence.inversion.direct.}): those declared in
 * {@link DirectOptions#SETTINGS}. Unknown keys are an error. Registered as a
 * {@code META-INF/services} provider.
 */
public final class DirectSolverFactory implements InverseHvpSolverFactory {

    @Override
    public InversionMethod method() {
        return InversionMethod.DIRECT;
    }

    /** @return {@link DirectOptions#SETTINGS} */
    @Override
    public List<Setting<?>> settings() {
        return DirectOptions.SETTINGS;
    }

    /** @throws IllegalArgumentException naming an unknown key or a bad value */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        return new DirectSolver(DirectOptions.from(settings));
    }

    @Override
    public String toString() {
        return "DirectSolverFactory[" + modelType() + ", direct]";
    }
}
