package org.influence4j.registry;

import jakarta.inject.Inject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.api.progress.ProgressListener;
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
 * ({@code influence.inversion.ekfac.*}) are declared in {@link EkfacOptions#SETTINGS}.
 *
 * <p>Methods are open: any method a registered solver factory names (a plugin's too) can be
 * configured; {@link #declaredSettings()} lists the settings every available method declares.
 *
 * <p>Injectable (Guice binds it in {@link InfluenceModule}) or usable directly. Thread-safe; each
 * call returns a new, unfitted model that the caller must {@link InfluenceFunctionModel#fit fit}
 * and close.
 */
public final class InfluenceModelFactory {

    /** EK-FAC setting: refit the eigenvalues ({@link EkfacOptions#UPDATE_DIAGONAL}). */
    public static final String EKFAC_UPDATE_DIAGONAL = EkfacOptions.UPDATE_DIAGONAL.key();
    /** EK-FAC setting: {@code fisher} or {@code pydvl} ({@link EkfacOptions#CURVATURE}). */
    public static final String EKFAC_CURVATURE = EkfacOptions.CURVATURE.key();

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
     * @param progress receives the fit's tasks where the method reports them (EK-FAC's passes)
     * @return as {@link #create(TwiceDifferentiable)}
     */
    public InfluenceFunctionModel create(TwiceDifferentiable model, ProgressListener progress) {
        return create(model, settings.method(), progress == null ? ProgressListener.NONE : progress);
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
        return create(model, method, ProgressListener.NONE);
    }

    private InfluenceFunctionModel create(TwiceDifferentiable model, InversionMethod method,
                                          ProgressListener progress) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        if (method == InversionMethod.EKFAC && !isRegistered(model.backend().name(), method)) {
            return new EkfacInfluence(model, ekfacOptions(settings.solverSettings(method)).withProgress(progress));
        }
        InverseHvpSolver solver = solver(model.backend().name(), method).withProgress(progress);
        return new InverseHessianInfluence(model, solver,
                new InfluenceOptions(settings.hessianRegularization(), settings.batchSize(), settings.curvature(),
                        settings.keptStateBytes()));
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

    /**
     * The settings of every method this factory can build for any model, declared once by the
     * method: each generic solver factory's {@link org.influence4j.api.inversion.InverseHvpSolverFactory#settings()},
     * and EK-FAC's {@link EkfacOptions#SETTINGS} when no generic solver is registered for it.
     *
     * @return short-keyed declarations by method, in method order (unmodifiable)
     */
    public Map<InversionMethod, List<Setting<?>>> declaredSettings() {
        Map<InversionMethod, List<Setting<?>>> declared = new java.util.TreeMap<>();
        for (InversionRegistry.Key key : registry.keys()) {
            if (InversionRegistry.GENERIC.equals(key.modelType())) {
                declared.put(key.method(), List.copyOf(registry.factory(InversionRegistry.GENERIC, key.method())
                        .settings()));
            }
        }
        declared.putIfAbsent(InversionMethod.EKFAC, EkfacOptions.SETTINGS);
        return Collections.unmodifiableMap(new LinkedHashMap<>(declared));
    }

    private boolean isRegistered(String modelType, InversionMethod method) {
        return registry.keys().contains(new InversionRegistry.Key(modelType, method))
                || registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC, method));
    }

    private EkfacOptions ekfacOptions(SolverSettings s) {
        return EkfacOptions.from(s, settings.hessianRegularization(), settings.batchSize());
    }
}
