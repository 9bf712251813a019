package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Injector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.registry.InfluenceModelFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-backend parity: the same {@link ModelSpec}, parameters and data give the same loss,
 * gradient, per-sample gradients, HVP, block HVP, influence factors and influences on every
 * available backend ({@link AvailableBackends}) as on the reference backend {@code djl-pytorch}.
 * Both backends are chosen by configuration ({@code InfluenceSettings.backend}) through a Guice
 * injector, and the influence model comes from the injected {@link InfluenceModelFactory} (direct
 * inversion of H + λI).
 *
 * <p>Models: logistic regression, and a 2-hidden-layer MLP (softmax cross-entropy, 3 classes) with
 * each activation, in float64 (relative difference ‖a − b‖/‖b‖ &lt; 1e-9) and float32 (&lt; 1e-4).
 * The reference itself is checked against closed forms and finite differences in its own module.
 * With only the reference on the class path there is nothing to compare, and the suite runs no case.
 */
class BackendParityTest {

    private static final Logger LOG = LoggerFactory.getLogger(BackendParityTest.class);
    private static final double LAMBDA = 0.5;
    private static final int DIM = 4;
    private static final int HIDDEN = 5;
    private static final int CLASSES = 3;
    /** Largest relative difference per backend, dtype and quantity, reported after the run. */
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    /** Reference results per model and dtype, computed once. */
    private static final Map<String, Results> REFERENCE = new ConcurrentHashMap<>();

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            if (backend.equals(AvailableBackends.REFERENCE)) {
                continue;
            }
            for (DType dtype : DType.values()) {
                out.add(Arguments.of(backend, "logistic", dtype));
                for (Activation act : Activation.values()) {
                    if (act == Activation.GELU) {
                        continue; // a layer-graph activation (format 2), covered by the graph fixture tests
                    }
                    out.add(Arguments.of(backend, "mlp-" + act.jsonName(), dtype));
                }
            }
        }
        return out.stream();
    }

    static ModelSpec spec(String model, DType dtype) {
        if (model.equals("logistic")) {
            return ModelSpec.builder(DIM).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(dtype).build();
        }
        Activation act = Activation.parse(model.substring("mlp-".length()));
        return ModelSpec.builder(DIM).dense(HIDDEN).activation(act).dense(HIDDEN).activation(act).dense(CLASSES)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(dtype).build();
    }

    @ParameterizedTest(name = "{0} {1} {2}", allowZeroInvocations = true)
    @MethodSource("cases")
    void sameNumbersAsTheReference(String backendName, String model, DType dtype) {
        ModelSpec spec = spec(model, dtype);
        double tolerance = dtype == DType.FLOAT64 ? 1e-9 : 1e-4;
        Batch train = batch(spec, 40, 11);
        Batch test = batch(spec, 5, 12);
        double[] theta = spec.initialParameters(13);
        int p = spec.numParameters();
        double[] v = gaussian(p, 14);
        double[] vs = gaussian(3 * p, 15);

        Results expected = REFERENCE.computeIfAbsent(model + " " + dtype,
                key -> compute(AvailableBackends.REFERENCE, spec, theta, train, test, v, vs));
        Results actual = compute(backendName, spec, theta, train, test, v, vs);
        String label = backendName + " " + model + " " + dtype.jsonName();
        check(label, dtype, "loss", new double[] {actual.loss}, new double[] {expected.loss}, tolerance);
        check(label, dtype, "gradient", actual.gradient, expected.gradient, tolerance);
        check(label, dtype, "perSampleGradients", actual.perSample, expected.perSample, tolerance);
        check(label, dtype, "hvp", actual.hvp, expected.hvp, tolerance);
        check(label, dtype, "hvpBlock", actual.hvpBlock, expected.hvpBlock, tolerance);
        check(label, dtype, "influenceFactors", actual.factors, expected.factors, tolerance);
        check(label, dtype, "influences", actual.influences, expected.influences, tolerance);
    }

    @AfterAll
    static void report() {
        new TreeMap<>(WORST).forEach((k, e) -> LOG.info("parity, worst relative difference: {} = {}", k,
                String.format("%.2e", e)));
    }

    /** Host copies of everything compared, computed on one backend. */
    private record Results(double loss, double[] gradient, double[] perSample, double[] hvp, double[] hvpBlock,
                           double[] factors, double[] influences) {
    }

    private static Results compute(String backendName, ModelSpec spec, double[] theta, Batch train, Batch test,
                                   double[] v, double[] vs) {
        Injector injector = AvailableBackends.injector(backendName, InversionMethod.DIRECT, LAMBDA);
        Backend backend = injector.getInstance(Backend.class);
        assertEquals(backendName, backend.name(), "the injector gives the configured backend");
        int p = spec.numParameters();
        try (TwiceDifferentiable model = backend.createModel(spec, theta);
             TensorScope scope = backend.newScope()) {
            double loss = model.loss(train);
            double[] gradient = model.gradient(train, scope).toDoubleArray();
            double[] perSample = model.perSampleGradients(train, scope).toDoubleArray();
            Tensor vt = scope.fromArray(v, spec.dtype(), p);
            double[] hvp = model.hvp(train, vt, scope).toDoubleArray();
            Tensor vst = scope.fromArray(vs, spec.dtype(), 3, p);
            double[] hvpBlock = model.hvpBlock(train, vst, scope).toDoubleArray();
            try (InfluenceFunctionModel influence = injector.getInstance(InfluenceModelFactory.class).create(model)) {
                influence.fit(new InMemoryDataSource(train));
                double[] factors = influence.influenceFactors(test, scope).toDoubleArray();
                double[] influences = influence.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
                return new Results(loss, gradient, perSample, hvp, hvpBlock, factors, influences);
            }
        }
    }

    private static void check(String label, DType dtype, String quantity, double[] actual, double[] expected,
                              double tolerance) {
        assertEquals(expected.length, actual.length, label + " " + quantity + ": length");
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < expected.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            ref += expected[i] * expected[i];
        }
        double rel = Math.sqrt(diff) / Math.sqrt(ref);
        WORST.merge(label.substring(0, label.indexOf(' ')) + " " + dtype.jsonName() + " " + quantity, rel, Math::max);
        assertTrue(ref > 0, label + " " + quantity + ": the reference is zero, the comparison would be empty");
        assertTrue(rel < tolerance, label + " " + quantity + ": relative difference " + rel + " >= " + tolerance);
    }

    /** x ~ N(0,1); binary labels, or class indices for the MLP. */
    private static Batch batch(ModelSpec spec, int n, long seed) {
        double[] x = gaussian(n * DIM, seed);
        SplittableRandom r = new SplittableRandom(seed + 1000);
        double[] y = new double[n];
        int classes = spec.loss() == Loss.BINARY_LOGISTIC ? 2 : CLASSES;
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return new Batch(x, DIM, y, 1);
    }

    private static double[] gaussian(int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            double u = r.nextDouble();
            double w = r.nextDouble();
            out[i] = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
        }
        return out;
    }
}
