package org.influence4j.registry;

import jakarta.inject.Inject;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;

/**
 * Builds {@link InfluenceFunctionModel influence models} with the configured inversion method,
 * Hessian regularization λ and batch size: the solver comes from the {@link InversionRegistry}
 * under (the model's backend name, {@link InfluenceSettings#method()}), so a backend-specific
 * solver wins over a generic one, and is created with the method's
 * {@link InfluenceSettings#solverSettings(InversionMethod) solver settings}.
 *
 * <p>Injectable (Guice binds it in {@link InfluenceModule}) or usable directly. Thread-safe; each
 * call returns a new, unfitted model that the caller must {@link InfluenceFunctionModel#fit fit}
 * and close.
 */
public final class InfluenceModelFactory {

    private final InversionRegistry registry;
    private final InfluenceSettings settings;

    /**
     * @param registry where solvers are looked up
     * @param settings method, λ, batch size and solver settings
     */
    @Inject
    public InfluenceModelFactory(InversionRegistry registry, InfluenceSettings settings) {
        if (registry == null || settings == null) {
            throw new IllegalArgumentException("registry and settings must not be null");
        }
        this.registry = registry;
        this.settings = settings;
    }

    /** @return the settings models are built with */
    public InfluenceSettings settings() {
        return settings;
    }

    /**
     * @param model the model and loss at (or near) a minimum of the mean training loss
     * @return a new, unfitted {@link InverseHessianInfluence} using the configured method
     * @throws IllegalArgumentException if no solver is registered for the configured method (the
     *     message lists the registered keys) or a solver setting is unknown or invalid
     */
    public InfluenceFunctionModel create(TwiceDifferentiable model) {
        return create(model, settings.method());
    }

    /**
     * @param model  the model and loss
     * @param method the inversion method to use instead of the configured one
     * @return a new, unfitted {@link InverseHessianInfluence} using {@code method} and its settings
     * @throws IllegalArgumentException as for {@link #create(TwiceDifferentiable)}
     */
    public InfluenceFunctionModel create(TwiceDifferentiable model, InversionMethod method) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        InverseHvpSolver solver = solver(model.backend().name(), method);
        return new InverseHessianInfluence(model, solver,
                new InfluenceOptions(settings.hessianRegularization(), settings.batchSize()));
    }

    /**
     * @param modelType a backend name, or {@link InversionRegistry#GENERIC}
     * @param method    the inversion method
     * @return a solver for ({@code modelType}, {@code method}) created with that method's settings
     */
    public InverseHvpSolver solver(String modelType, InversionMethod method) {
        return registry.create(modelType, method, settings.solverSettings(method));
    }
}
