package org.influence4j.calculators.inversion;

import java.util.Set;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
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

    /** @throws IllegalArgumentException if {@code settings} holds any key (the method has none) */
    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        if (settings != null) {
            settings.requireOnly("direct", Set.of());
        }
        return new DirectSolver();
    }

    @Override
    public String toString() {
        return "DirectSolverFactory[" + modelType() + ", direct]";
    }
}
