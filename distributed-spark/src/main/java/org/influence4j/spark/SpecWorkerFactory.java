package org.influence4j.spark;

import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.InfluenceWorkerFactory;
import org.influence4j.calculators.influence.CgInfluence;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.registry.BackendDiscovery;
import org.influence4j.registry.plugins.BackendPlugins;

/**
 * A portable, serializable description of a fitted influence model — backend name, model spec
 * (as JSON), flat parameters, training data, λ and inversion method — from which every worker
 * (a thread, a Spark executor) builds its own model: the backend is found with
 * {@link BackendDiscovery} on the worker, the model created with {@link Backend#createModel}, and
 * the influence model fitted on the training data.
 *
 * <p>Supports {@link InversionMethod#DIRECT} and {@link InversionMethod#CG}.
 */
public final class SpecWorkerFactory implements InfluenceWorkerFactory {

    private static final long serialVersionUID = 1L;

    private final String backendName;
    private final String specJson;
    private final double[] parameters;
    private final double[] trainX;
    private final int numFeatures;
    private final double[] trainY;
    private final int labelWidth;
    private final InversionMethod method;
    private final double lambda;
    private final int batchSize;
    private final double cgRtol;
    private final double cgAtol;
    private final int cgMaxIterations;
    private final int numParameters;

    private SpecWorkerFactory(String backendName, ModelSpec spec, double[] parameters, Batch train,
            InversionMethod method, InfluenceOptions options, CgOptions cg) {
        this.backendName = backendName == null ? "" : backendName;
        this.specJson = spec.toJson();
        this.parameters = parameters.clone();
        this.trainX = train.x().clone();
        this.numFeatures = train.numFeatures();
        this.trainY = train.y().clone();
        this.labelWidth = train.labelWidth();
        this.method = method;
        this.lambda = options.hessianRegularization();
        this.batchSize = options.batchSize();
        this.cgRtol = cg.rtol();
        this.cgAtol = cg.atol();
        this.cgMaxIterations = cg.maxIterations();
        this.numParameters = spec.numParameters();
    }

    /**
     * @param backendName backend to build on each worker ({@code djl-pytorch}); null or blank = the best available
     * @param spec        the model description
     * @param parameters  flat trained parameters, length {@code spec.numParameters()}
     * @param train       the training data the influence model is fitted on
     * @param method      {@link InversionMethod#DIRECT} or {@link InversionMethod#CG}
     * @param options     λ and the chunk size of data passes
     * @param cg          CG tolerances (ignored for DIRECT)
     * @throws IllegalArgumentException naming the invalid argument
     */
    public static SpecWorkerFactory of(String backendName, ModelSpec spec, double[] parameters, Batch train,
            InversionMethod method, InfluenceOptions options, CgOptions cg) {
        if (spec == null) {
            throw new IllegalArgumentException("spec: must not be null");
        }
        if (parameters == null) {
            throw new IllegalArgumentException("parameters: must not be null");
        }
        spec.validateParameters(parameters, "parameters");
        if (train == null || train.size() == 0) {
            throw new IllegalArgumentException("train: must contain at least one sample");
        }
        spec.validate(train, "train");
        if (method != InversionMethod.DIRECT && method != InversionMethod.CG) {
            throw new IllegalArgumentException("method: " + method + " is not supported here; use DIRECT or CG");
        }
        if (options == null) {
            throw new IllegalArgumentException("options: must not be null; use InfluenceOptions.of(lambda)");
        }
        if (cg == null) {
            throw new IllegalArgumentException("cg: must not be null; use CgOptions.defaults()");
        }
        return new SpecWorkerFactory(backendName, spec, parameters, train, method, options, cg);
    }

    @Override
    public int numParameters() {
        return numParameters;
    }

    /** Builds the backend (found locally), the model and the fitted influence model. */
    @Override
    public InfluenceWorker create() {
        Backend backend;
        try {
            backend = BackendDiscovery.load().require(backendName);
        } catch (IllegalArgumentException | IllegalStateException e) {
            String hint = e.getMessage() + "; on Spark executors, ship a backend plugin folder with --archives"
                    + " influence4j-spark-backends-<version>.zip#backends and spark.executor.extraJavaOptions="
                    + "-D" + BackendPlugins.PROPERTY + "=backends (now " + BackendPlugins.PROPERTY + "="
                    + System.getProperty(BackendPlugins.PROPERTY) + ")";
            throw e instanceof IllegalArgumentException ? new IllegalArgumentException(hint, e)
                    : new IllegalStateException(hint, e);
        }
        ModelSpec spec = ModelSpec.fromJson(specJson);
        TwiceDifferentiable model = backend.createModel(spec, parameters);
        try {
            InfluenceOptions options = new InfluenceOptions(lambda, batchSize);
            InfluenceFunctionModel influence = method == InversionMethod.CG
                    ? new CgInfluence(model, options, new CgOptions(cgRtol, cgAtol, cgMaxIterations))
                    : new DirectInfluence(model, options);
            influence.fit(new InMemoryDataSource(new Batch(trainX, numFeatures, trainY, labelWidth)));
            return InfluenceWorker.owning(influence, model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "SpecWorkerFactory[" + (backendName.isEmpty() ? "best backend" : backendName) + ", " + method
                + ", λ=" + lambda + ", p=" + numParameters + ", n=" + trainY.length / labelWidth + "]";
    }
}
