package org.influence4j.calculators.inversion;

import java.util.List;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;

/**
 * Creates {@link DirectSolver}s for every model type ({@link InversionMethod#DIRECT}). The direct
 * method has no settings; any key given is reported as unknown. Registered as a
 * {@code META-INF/services} provider.
 */
public final class DirectSolverFactory implements InverseHvpSolverFactory {

    @Override
    public InversionMethod method() {
        return InversionMethod.DIRECT;
    }

    /** @return none: the direct method has no settings */
    @Override
    public List<Setting<?>> settings() {
        return List.of();
    }

    /** @throws IllegalArgumentException if {@code settings} holds any key (the method has none) */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        if (settings != null) {
            settings.requireDeclared("direct", settings());
        }
        return new DirectSolver();
    }

    @Override
    public String toString() {
        return "DirectSolverFactory[" + modelType() + ", direct]";
    }
}
