package org.influence4j.registry;

import jakarta.inject.Inject;
import java.util.Locale;
import java.util.Set;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;

/**
 * Builds {@link InfluenceFunctionModel influence models} with the configured inversion method,
 * Hessian regularization λ and batch size: the solver comes from the {@link InversionRegistry}
 * under (the model's backend name, {@link InfluenceSettings#method()}), so a backend-specific
 * solver wins over a generic one, and is created with the method's
 * {@link InfluenceSettings#solverSettings(InversionMethod) solver settings}.
 *
 * <p><b>EK-FAC</b> is not an {@code InverseHvpSolver} (it approximates the Gauss-Newton matrix from
 * per-layer factors instead of inverting the Hessian operator it would be given), so for
 * {@link InversionMethod#EKFAC} the factory builds an {@link EkfacInfluence} directly, unless a solver
 * factory is registered for that key, which then wins as for every other method. Its settings
 * ({@code influence.inversion.ekfac.*}): {@value #EKFAC_UPDATE_DIAGONAL} ({@code true|false}, default
 * false, pyDVL's {@code update_diagonal}) and {@value #EKFAC_CURVATURE} ({@code fisher|pydvl}, default
 * fisher, see {@link EkfacCurvature}).
 *
 * <p>Injectable (Guice binds it in {@link InfluenceModule}) or usable directly. Thread-safe; each
 * call returns a new, unfitted model that the caller must {@link InfluenceFunctionModel#fit fit}
 * and close.
 */
public final class InfluenceModelFactory {

    /** EK-FAC setting: refit the eigenvalues (pyDVL's {@code update_diagonal}). */
    public static final String EKFAC_UPDATE_DIAGONAL = "update_diagonal";
    /** EK-FAC setting: {@code fisher} or {@code pydvl} ({@link EkfacCurvature}). */
    public static final String EKFAC_CURVATURE = "curvature";

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
     * @return a new, unfitted influence model of the configured method: an
     *     {@link InverseHessianInfluence}, or an {@link EkfacInfluence} for EK-FAC
     * @throws IllegalArgumentException if no solver is registered for the configured method (the
     *     message lists the registered keys) or a solver setting is unknown or invalid
     */
    public InfluenceFunctionModel create(TwiceDifferentiable model) {
        return create(model, settings.method());
    }

    /**
     * @param model  the model and loss
     * @param method the inversion method to use instead of the configured one
     * @return a new, unfitted {@link InverseHessianInfluence} using {@code method} and its settings,
     *     or an {@link EkfacInfluence} for {@link InversionMethod#EKFAC} when no solver is registered for it
     * @throws IllegalArgumentException as for {@link #create(TwiceDifferentiable)}; for EK-FAC also
     *     if a setting is unknown or invalid or the model does not suit EK-FAC
     */
    public InfluenceFunctionModel create(TwiceDifferentiable model, InversionMethod method) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        if (method == InversionMethod.EKFAC && !isRegistered(model.backend().name(), method)) {
            return ekfac(model, settings.solverSettings(method));
        }
        InverseHvpSolver solver = solver(model.backend().name(), method);
        return new InverseHessianInfluence(model, solver,
                new InfluenceOptions(settings.hessianRegularization(), settings.batchSize(), settings.curvature()));
    }

    /**
     * Checks, before any data is read, that the configured method can be built for models of
     * {@code modelType}: a solver is registered for it, or it is EK-FAC (built directly) with valid
     * settings.
     *
     * @throws IllegalArgumentException as {@link #create(TwiceDifferentiable, InversionMethod)} would
     */
    public void requireAvailable(String modelType) {
        InversionMethod method = settings.method();
        if (method == InversionMethod.EKFAC && !isRegistered(modelType, method)) {
            ekfacOptions(settings.solverSettings(method));
        } else {
            solver(modelType, method);
        }
    }

    /**
     * @param modelType a backend name, or {@link InversionRegistry#GENERIC}
     * @param method    the inversion method
     * @return a solver for ({@code modelType}, {@code method}) created with that method's settings
     */
    public InverseHvpSolver solver(String modelType, InversionMethod method) {
        return registry.create(modelType, method, settings.solverSettings(method));
    }

    private boolean isRegistered(String modelType, InversionMethod method) {
        return registry.keys().contains(new InversionRegistry.Key(modelType, method))
                || registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC, method));
    }

    private EkfacInfluence ekfac(TwiceDifferentiable model, SolverSettings s) {
        return new EkfacInfluence(model, ekfacOptions(s));
    }

    private EkfacOptions ekfacOptions(SolverSettings s) {
        s.requireOnly("ekfac", Set.of(EKFAC_UPDATE_DIAGONAL, EKFAC_CURVATURE));
        String curvature = s.get(EKFAC_CURVATURE, "fisher").trim();
        EkfacCurvature parsed;
        try {
            parsed = EkfacCurvature.valueOf(curvature.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("influence.inversion.ekfac." + EKFAC_CURVATURE + ": '" + curvature
                    + "' is not one of fisher, pydvl", e);
        }
        return new EkfacOptions(settings.hessianRegularization(), s.getBoolean(EKFAC_UPDATE_DIAGONAL, false), parsed,
                settings.batchSize());
    }
}
