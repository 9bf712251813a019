package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DenseLayerFactors;
import org.influence4j.api.DType;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.io.SafeTensors;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.io.ParameterFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer graphs (convolutions, pooling, batch norm, residual add, embeddings, layer norm, GELU,
 * Softplus) against PyTorch's own numbers ({@link GraphFixture}): outputs, per-sample losses,
 * per-sample gradients, Hessian- and Gauss-Newton-vector products, in float64 (relative error
 * below 1e-10) and float32 (below 1e-5 for values, 1e-4 for second derivatives); mixed
 * derivatives against central differences; and the errors for ids out of range and state_dicts
 * that do not fit.
 */
public abstract class AbstractGraphFixtureTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    static Stream<Arguments> fixturesAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (String name : GraphFixture.NAMES) {
            for (DType dtype : DType.values()) {
                out.add(Arguments.of(name, dtype));
            }
        }
        return out.stream();
    }

    private static double tolerance(DType dtype, boolean secondOrder) {
        return dtype == DType.FLOAT64 ? 1e-10 : secondOrder ? 1e-4 : 1e-5;
    }

    private TwiceDifferentiable model(GraphFixture f, DType dtype) {
        return backend().createModel(f.spec().withDType(dtype), f.parameters());
    }

    private static void assertClose(String what, double[] expected, double[] actual, double tolerance) {
        double err = TestSupport.relErr(actual, expected);
        assertTrue(err < tolerance, what + ": relative error " + err + " ≥ " + tolerance);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixturesAndTypes")
    void outputsLossesAndPerSampleGradientsEqualPyTorch(String name, DType dtype) {
        GraphFixture f = GraphFixture.load(name);
        double tol = tolerance(dtype, false);
        try (TwiceDifferentiable model = model(f, dtype); TensorScope scope = backend().newScope()) {
            assertClose(name + " logits", f.logits(), model.forward(f.batch(), scope).toDoubleArray(), tol);
            assertClose(name + " losses", f.losses(), model.perSampleLosses(f.batch(), scope).toDoubleArray(), tol);
            double[] grads = model.perSampleGradients(f.batch(), scope).toDoubleArray();
            assertClose(name + " per-sample gradients", f.grads(), grads, tol);
            double meanLoss = 0;
            for (double l : f.losses()) {
                meanLoss += l / f.losses().length;
            }
            assertEquals(meanLoss, model.loss(f.batch()), tol * Math.abs(meanLoss));
            int n = f.batch().size();
            int p = model.numParameters();
            double[] mean = new double[p];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < p; j++) {
                    mean[j] += grads[i * p + j] / n;
                }
            }
            assertClose(name + " gradient = mean of per-sample gradients", mean,
                    model.gradient(f.batch(), scope).toDoubleArray(), tol);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixturesAndTypes")
    void hessianAndGaussNewtonProductsEqualPyTorch(String name, DType dtype) {
        GraphFixture f = GraphFixture.load(name);
        double tol = tolerance(dtype, true);
        int p = f.v().length;
        try (TwiceDifferentiable model = model(f, dtype); TensorScope scope = backend().newScope()) {
            Tensor v = scope.fromArray(f.v(), dtype, p);
            assertClose(name + " hvp", f.hvp(), model.hvp(f.batch(), v, scope).toDoubleArray(), tol);
            Tensor vs = scope.fromArray(twoDirections(f.v()), dtype, 2, p);
            double[] block = model.hvpBlock(f.batch(), vs, scope).toDoubleArray();
            assertClose(name + " hvpBlock row 0", f.hvp(), TestSupport.row(block, p, 0), tol);
            assertClose(name + " hvpBlock row 1", TestSupport.axpy(-3, f.hvp(), f.hvp()), TestSupport.row(block, p, 1),
                    tol);
            double[] gn = model.gaussNewtonBlock(f.batch(), vs, scope).toDoubleArray();
            assertClose(name + " Gauss-Newton row 0", f.gnvp(), TestSupport.row(gn, p, 0), tol);
            assertClose(name + " Gauss-Newton row 1", TestSupport.axpy(-3, f.gnvp(), f.gnvp()),
                    TestSupport.row(gn, p, 1), tol);
        }
    }

    /**
     * The empirical Fisher product ({@link Curvature#EMPIRICAL_FISHER}: pyDVL's "Gauss-Newton")
     * equals {@code (1/n) Σ_i g_i (g_iᵀ v)} built in double from PyTorch's per-sample gradients, for a
     * block of two directions, computed and kept ({@link TwiceDifferentiable#keepCurvature}).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixturesAndTypes")
    void empiricalFisherProductsEqualTheMeanOuterProductOfPyTorchsGradients(String name, DType dtype) {
        GraphFixture f = GraphFixture.load(name);
        double tol = tolerance(dtype, true);
        int p = f.v().length;
        int n = f.batch().size();
        double[] expected = new double[p];
        for (int i = 0; i < n; i++) {
            double along = 0;
            for (int j = 0; j < p; j++) {
                along += f.grads()[i * p + j] * f.v()[j];
            }
            for (int j = 0; j < p; j++) {
                expected[j] += f.grads()[i * p + j] * along / n;
            }
        }
        try (TwiceDifferentiable model = model(f, dtype); TensorScope scope = backend().newScope();
             KeptCurvature kept = model.keepCurvature(f.batch(), Curvature.EMPIRICAL_FISHER)) {
            Tensor vs = scope.fromArray(twoDirections(f.v()), dtype, 2, p);
            for (double[] block : List.of(
                    model.curvatureBlock(f.batch(), Curvature.EMPIRICAL_FISHER, vs, scope).toDoubleArray(),
                    kept.times(vs, scope).toDoubleArray())) {
                assertClose(name + " empirical Fisher row 0", expected, TestSupport.row(block, p, 0), tol);
                assertClose(name + " empirical Fisher row 1", TestSupport.axpy(-3, expected, expected),
                        TestSupport.row(block, p, 1), tol);
            }
        }
    }

    /**
     * The empirical Fisher of a graph with an Embedding table, whose per-sample gradients
     * {@code [n, V·d]} it never forms (only the looked-up rows'), equals {@code (vs Gᵀ) G / n} from
     * the per-sample gradients G, computed and kept (float64, 1e-10). 300 samples (two chunks of
     * the pass) of 128 ids from a 1,000-row table, drawn so that a few ids come from hundreds of
     * rows each, and 12 directions (more than one group of the product's memory bound). The kept
     * state is as large as the model announces.
     */
    @Test
    void empiricalFisherOfATableModelEqualsTheProductOfItsPerSampleGradients() {
        int vocabulary = 1000;
        int tokens = 128;
        ModelSpec spec = ModelSpec.fromJson("{\"format\": 2, \"input\": {\"shape\": [" + tokens + "],"
                + " \"dtype\": \"int64\"}, \"nodes\": [{\"name\": \"emb\", \"op\": \"embedding\","
                + " \"inputs\": [\"input\"], \"num_embeddings\": " + vocabulary + ", \"embedding_dim\": 16},"
                + " {\"name\": \"mean0\", \"op\": \"mean\", \"axis\": 0},"
                + " {\"name\": \"fc1\", \"op\": \"dense\", \"in_features\": 16, \"out_features\": 4, \"bias\": true},"
                + " {\"name\": \"tanh0\", \"op\": \"tanh\"},"
                + " {\"name\": \"fc2\", \"op\": \"dense\", \"in_features\": 4, \"out_features\": 3, \"bias\": true}],"
                + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float64\"}");
        int n = 300;
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        double[] ids = new double[n * tokens];
        for (int i = 0; i < ids.length; i++) {
            double u = random.nextDouble();
            ids[i] = Math.min(vocabulary - 1, (int) (u * u * u * vocabulary)); // id 0 from about 1 row in 10
        }
        double[] labels = new double[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
        }
        Batch batch = new Batch(ids, tokens, labels, 1);
        int directions = 12;
        try (TwiceDifferentiable model = backend().createModel(spec, spec.initialParameters(3));
             TensorScope scope = backend().newScope();
             KeptCurvature kept = model.keepCurvature(batch, Curvature.EMPIRICAL_FISHER)) {
            int p = model.numParameters();
            double[] g = model.perSampleGradients(batch, scope).toDoubleArray();
            double[] v = TestSupport.gaussians(directions * p, 5);
            double[] expected = new double[directions * p];
            for (int j = 0; j < directions; j++) {
                for (int i = 0; i < n; i++) {
                    double along = 0;
                    for (int c = 0; c < p; c++) {
                        along += g[i * p + c] * v[j * p + c];
                    }
                    for (int c = 0; c < p; c++) {
                        expected[j * p + c] += g[i * p + c] * along / n;
                    }
                }
            }
            Tensor vs = scope.fromArray(v, DType.FLOAT64, directions, p);
            assertClose("computed", expected, model.empiricalFisherBlock(batch, vs, scope).toDoubleArray(), 1e-10);
            assertClose("kept", expected, kept.times(vs, scope).toDoubleArray(), 1e-10);
            assertEquals(model.empiricalFisherKeptBytes(n), kept.keptBytes());
        }
    }

    /**
     * The Gauss-Newton factors M {@code [n·c, p]} rebuild PyTorch's Gauss-Newton product,
     * {@code (1/n) Mᵀ(M v)} = the fixture's {@code gnvp}; and the factors of a 300-row batch (taken
     * in chunks) hold, for each row, the c rows of its sample in a one-pass batch (float64, 1e-12).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixturesAndTypes")
    void gaussNewtonFactorsRebuildPyTorchsGaussNewtonProducts(String name, DType dtype) {
        GraphFixture f = GraphFixture.load(name);
        Batch b = f.batch();
        int n = b.size();
        int p = f.v().length;
        try (TwiceDifferentiable model = model(f, dtype); TensorScope scope = backend().newScope()) {
            int c = model.spec().outputDim();
            Tensor m = model.gaussNewtonFactors(b, scope);
            assertArrayEquals(new long[] {(long) n * c, p}, m.shape(), name + " shape");
            assertClose(name + " (1/n) MᵀMv", f.gnvp(), meanGramTimes(m.toDoubleArray(), n, f.v()),
                    tolerance(dtype, true));
            if (dtype == DType.FLOAT64) {
                double[] one = m.toDoubleArray();
                int rows = 300;
                int[] index = new int[rows];
                for (int i = 0; i < rows; i++) {
                    index[i] = (i * 7) % n;
                }
                double[] all = model.gaussNewtonFactors(b.select(index), scope).toDoubleArray();
                assertEquals((long) rows * c * p, all.length);
                for (int i = 0; i < rows; i++) {
                    assertClose(name + " sample " + i, java.util.Arrays.copyOfRange(one, index[i] * c * p,
                            (index[i] + 1) * c * p), java.util.Arrays.copyOfRange(all, i * c * p, (i + 1) * c * p),
                            1e-12);
                }
            }
        }
    }

    /** @return {@code (1/n) Mᵀ (M v)} for M {@code [r, p]} held row-major */
    private static double[] meanGramTimes(double[] m, int n, double[] v) {
        int p = v.length;
        int r = m.length / p;
        double[] out = new double[p];
        for (int i = 0; i < r; i++) {
            double mv = 0;
            for (int j = 0; j < p; j++) {
                mv += m[i * p + j] * v[j];
            }
            for (int j = 0; j < p; j++) {
                out[j] += m[i * p + j] * mv / n;
            }
        }
        return out;
    }

    /**
     * The square roots of the loss curvature of every loss: for MSE (2 outputs), the binary logistic
     * loss (1 logit) and softmax cross-entropy (3 classes) on a small Dense graph,
     * {@code (1/n) Mᵀ(M v)} equals {@link TwiceDifferentiable#gaussNewtonBlock} (float64, 1e-12).
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"mse", "binary_logistic", "softmax_cross_entropy"})
    void gaussNewtonFactorsOfEveryLossRebuildTheProducts(String loss) {
        boolean classes = loss.equals("softmax_cross_entropy");
        int outputs = classes ? 3 : loss.equals("mse") ? 2 : 1;
        ModelSpec spec = ModelSpec.fromJson("{\"format\": 2, \"input\": {\"shape\": [4]}, \"layers\": ["
                + "{\"op\": \"dense\", \"in_features\": 4, \"out_features\": 5}, {\"op\": \"tanh\"},"
                + " {\"op\": \"dense\", \"in_features\": 5, \"out_features\": " + outputs + "}],"
                + " \"loss\": \"" + loss + "\", \"dtype\": \"float64\"}");
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        int n = 6;
        double[] x = new double[n * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-1, 1);
        }
        int width = classes ? 1 : outputs;
        double[] y = new double[n * width];
        for (int i = 0; i < y.length; i++) {
            y[i] = classes ? random.nextInt(outputs) : loss.equals("mse") ? random.nextGaussian() : random.nextInt(2);
        }
        Batch b = new Batch(x, 4, y, width);
        double[] theta = spec.initialParameters(2);
        double[] v = new double[theta.length];
        for (int j = 0; j < v.length; j++) {
            v[j] = random.nextGaussian();
        }
        try (TwiceDifferentiable model = backend().createModel(spec, theta); TensorScope scope = backend().newScope()) {
            double[] m = model.gaussNewtonFactors(b, scope).toDoubleArray();
            assertEquals((long) n * outputs * v.length, m.length, loss + " size");
            double[] gn = model.gaussNewtonBlock(b, scope.fromArray(v, DType.FLOAT64, 1, v.length), scope)
                    .toDoubleArray();
            assertClose(loss + " (1/n) MᵀMv", gn, meanGramTimes(m, n, v), 1e-12);
        }
    }

    /**
     * Features held in their own type — images as float32 ({@code float[]}), token ids as int64
     * ({@code long[]}) — give the same numbers, bit for bit, as the same values held as doubles, on
     * every path that uploads features: outputs, losses, per-sample gradients, Hessian and
     * Gauss-Newton blocks (which replicate the batch).
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("fixturesAndTypes")
    void typedFeaturesGiveTheSameNumbersAsDoubles(String name, DType dtype) {
        GraphFixture f = GraphFixture.load(name);
        HostArray read = f.batch().features();
        HostArray features = read.storage() == HostArray.Storage.INT64 ? read
                : HostArray.ofFloats(read.floats(), read.shape());
        Batch typed = new Batch(features, f.batch().y(), 1);
        Batch doubles = new Batch(features.doubles(), f.batch().numFeatures(), f.batch().y(), 1);
        int p = f.v().length;
        try (TwiceDifferentiable model = model(f, dtype); TensorScope scope = backend().newScope()) {
            Tensor vs = scope.fromArray(f.v(), dtype, 1, p);
            assertEquals(model.loss(doubles), model.loss(typed), name);
            assertArrayEquals(model.forward(doubles, scope).toDoubleArray(), model.forward(typed, scope).toDoubleArray(),
                    name);
            assertArrayEquals(model.perSampleGradients(doubles, scope).toDoubleArray(),
                    model.perSampleGradients(typed, scope).toDoubleArray(), name);
            assertArrayEquals(model.hvpBlock(doubles, vs, scope).toDoubleArray(),
                    model.hvpBlock(typed, vs, scope).toDoubleArray(), name);
            assertArrayEquals(model.gaussNewtonBlock(doubles, vs, scope).toDoubleArray(),
                    model.gaussNewtonBlock(typed, vs, scope).toDoubleArray(), name);
        }
    }

    /** The Dense heads' factors rebuild PyTorch's per-sample gradients of their weights and biases. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtureNames")
    void denseLayerFactorsRebuildThePerSampleGradients(String name) {
        GraphFixture f = GraphFixture.load(name);
        int n = f.batch().size();
        int p = f.v().length;
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            List<DenseLayerFactors> factors = model.denseLayerFactors(f.batch(), scope);
            assertEquals(f.spec().graph().factorLayers().size(), factors.size());
            assertTrue(!factors.isEmpty(), name + " has a Dense head");
            for (DenseLayerFactors layer : factors) {
                double[] a = layer.inputs().toDoubleArray();
                double[] d = layer.outputGradients().toDoubleArray();
                int in = a.length / n;
                int out = d.length / n;
                double[] expected = new double[n * (out * in + out)];
                double[] rebuilt = new double[expected.length];
                int width = out * in + out;
                for (int i = 0; i < n; i++) {
                    System.arraycopy(f.grads(), i * p + layer.parameterOffset(), expected, i * width, width);
                    for (int o = 0; o < out; o++) {
                        for (int c = 0; c < in; c++) {
                            rebuilt[i * width + o * in + c] = d[i * out + o] * a[i * in + c];
                        }
                        rebuilt[i * width + out * in + o] = d[i * out + o];
                    }
                }
                assertClose(name + " layer " + layer.layerIndex(), expected, rebuilt, 1e-10);
            }
        }
    }

    static Stream<String> fixtureNames() {
        return GraphFixture.NAMES.stream();
    }

    @Test
    void fullHessianIsSymmetricAndAgreesWithHvp() {
        GraphFixture f = GraphFixture.load("embed_mean");
        int p = f.v().length;
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            double[] h = model.hessian(f.batch(), scope).toDoubleArray();
            double[] hv = new double[p];
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    assertEquals(h[i * p + j], h[j * p + i], 0.0, "H must be exactly symmetric");
                    hv[i] += h[i * p + j] * f.v()[j];
                }
            }
            assertClose("H v", f.hvp(), hv, 1e-10);
        }
    }

    /** ∇x⟨v, ∇θℓ_i⟩ against central differences of the per-sample gradients in x (float inputs). */
    @Test
    void mixedDerivativesMatchFiniteDifferences() {
        for (String name : List.of("lenet", "resnet")) {
            GraphFixture f = GraphFixture.load(name);
            Batch b = f.batch();
            int n = b.size();
            int d = b.numFeatures();
            int p = f.v().length;
            try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
                double[] mixed = model.mixedGradientProducts(b, scope.fromArray(f.v(), DType.FLOAT64, 1, p), scope)
                        .toDoubleArray();
                assertEquals(n * d, mixed.length);
                java.util.SplittableRandom random = new java.util.SplittableRandom(7);
                for (int trial = 0; trial < 6; trial++) {
                    int i = random.nextInt(n);
                    int c = random.nextInt(d);
                    double h = 1e-5;
                    double up = vDotGradient(model, b, i, c, h, f.v(), scope);
                    double down = vDotGradient(model, b, i, c, -h, f.v(), scope);
                    double fd = (up - down) / (2 * h);
                    double got = mixed[i * d + c];
                    assertEquals(fd, got, 1e-6 * Math.max(1, Math.abs(fd)), name + " ∂x[" + i + "][" + c + "]");
                }
            }
        }
    }

    /**
     * A batch larger than one pass of per-sample gradients (the fixture's samples repeated to 300
     * rows, taken in chunks) gives each row the gradient of its sample as in the fixture's batch (to
     * 1e-12): the chunks are joined in order.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void perSampleGradientsOfALargeBatchJoinTheirChunksInOrder(String name) {
        GraphFixture f = GraphFixture.load(name);
        Batch b = f.batch();
        int n = b.size();
        int rows = 300;
        int[] index = new int[rows];
        for (int i = 0; i < rows; i++) {
            index[i] = (i * 7) % n;
        }
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            double[] one = model.perSampleGradients(b, scope).toDoubleArray();
            double[] all = model.perSampleGradients(b.select(index), scope).toDoubleArray();
            int p = one.length / n;
            assertEquals((long) rows * p, all.length);
            for (int i = 0; i < rows; i++) {
                double[] expected = java.util.Arrays.copyOfRange(one, index[i] * p, (index[i] + 1) * p);
                double[] actual = java.util.Arrays.copyOfRange(all, i * p, (i + 1) * p);
                assertClose(name + " row " + i, expected, actual, 1e-12);
            }
        }
    }

    /**
     * The per-sample gradient blocks cover θ in order and rebuild the per-sample gradients: columns
     * as they are, a factored Dense layer as the outer products {@code δ_i (a_i, 1)ᵀ}, an Embedding's
     * rows as δ added at the ids (the fixture's samples repeat ids, within and across samples); on a
     * batch of the fixture and on 300 rows (chunks joined), float64, 1e-12. The CNNs have columns
     * (convolutions, BatchNorm) and Dense factors, the embedding fixtures rows and Dense factors, and
     * columns for a LayerNorm. The columns are as many as
     * {@link TwiceDifferentiable#perSampleGradientColumns} says.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void perSampleGradientBlocksRebuildThePerSampleGradients(String name) {
        GraphFixture f = GraphFixture.load(name);
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            for (Batch b : List.of(f.batch(), repeated(f.batch()))) {
                double[] expected = model.perSampleGradients(b, scope).toDoubleArray();
                Rebuilt rebuilt = rebuild(model.perSampleGradientBlocks(b, scope), b.size(), model.parameterLayout());
                assertEquals(model.parameterLayout().stream().map(ParameterInfo::offset).toList(), rebuilt.parameters(),
                        name + " blocks cover θ in order");
                assertEquals(rebuilt.columns(), model.perSampleGradientColumns(), name + ": the columns the model announces");
                assertEquals(switch (name) {
                    case "lenet", "resnet" -> "[COLUMNS, DENSE_FACTORS]";
                    case "embed_mean" -> "[DENSE_FACTORS, EMBEDDING_ROWS]";
                    default -> "[COLUMNS, DENSE_FACTORS, EMBEDDING_ROWS]";
                }, rebuilt.kinds().toString(), name + ": the blocks' kinds");
                assertClose(name + " rebuilt from " + b.size() + " rows", expected, rebuilt.gradients(), 1e-12);
            }
        }
    }

    /**
     * The blocks of every other parameter (Captum's {@code layers}; so Dense weights without their
     * bias and biases without their weight) cover exactly those parameters in θ order and rebuild
     * their columns of the per-sample gradients, zero elsewhere (float64, 1e-12), on the fixture's
     * batch and on 300 rows; their columns are as many as the model announces for them; an unknown
     * name is refused naming the argument.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void namedParametersBlocksRebuildTheirColumns(String name) {
        GraphFixture f = GraphFixture.load(name);
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            int p = model.numParameters();
            java.util.Set<String> named = new java.util.HashSet<>();
            List<Integer> offsets = new java.util.ArrayList<>();
            boolean[] kept = new boolean[p];
            List<ParameterInfo> layout = model.parameterLayout();
            for (int j = 1; j < layout.size(); j += 2) {
                ParameterInfo info = layout.get(j);
                named.add(info.name());
                offsets.add(info.offset());
                java.util.Arrays.fill(kept, info.offset(), info.offset() + info.size(), true);
            }
            for (Batch b : List.of(f.batch(), repeated(f.batch()))) {
                double[] expected = model.perSampleGradients(b, scope).toDoubleArray();
                for (int e = 0; e < expected.length; e++) {
                    expected[e] = kept[e % p] ? expected[e] : 0;
                }
                Rebuilt rebuilt = rebuild(model.perSampleGradientBlocks(b, scope, named), b.size(), layout);
                assertEquals(offsets, rebuilt.parameters(), name + " blocks cover the named parameters in θ order");
                assertEquals(rebuilt.columns(), model.perSampleGradientColumns(named),
                        name + ": the columns the model announces for " + named);
                assertClose(name + " " + named + " rebuilt from " + b.size() + " rows", expected, rebuilt.gradients(),
                        1e-12);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.perSampleGradientBlocks(f.batch(), scope, java.util.Set.of("nope.weight")));
            assertTrue(e.getMessage().startsWith("parameters: unknown [nope.weight]"), e.getMessage());
        }
    }

    /**
     * @return the rows {@code v} and {@code −2v}, {@code [2, p]} row-major: a linear product's second
     *     row is −2 times its first
     */
    private static double[] twoDirections(double[] v) {
        int p = v.length;
        double[] rows = new double[2 * p];
        for (int j = 0; j < p; j++) {
            rows[j] = v[j];
            rows[p + j] = -2 * v[j];
        }
        return rows;
    }

    /** @return 300 rows of {@code batch}, repeating its samples (more than a chunk of the per-sample passes) */
    private static Batch repeated(Batch batch) {
        int[] index = new int[300];
        for (int i = 0; i < index.length; i++) {
            index[i] = (i * 7) % batch.size();
        }
        return batch.select(index);
    }

    /**
     * Per-sample gradients rebuilt from blocks.
     *
     * @param gradients  {@code [n, p]}, zero where no block is
     * @param parameters the offsets of the parameters the blocks cover, in their order
     * @param kinds      the blocks' kinds
     * @param columns    the entries held as columns
     */
    private record Rebuilt(double[] gradients, List<Integer> parameters,
                           java.util.Set<org.influence4j.api.GradientBlock.Kind> kinds, long columns) {
    }

    /** @param layout the model's parameters, which the blocks' ranges must consist of */
    private static Rebuilt rebuild(List<org.influence4j.api.GradientBlock> blocks, int n, List<ParameterInfo> layout) {
        ParameterInfo last = layout.get(layout.size() - 1);
        int p = last.offset() + last.size();
        double[] rebuilt = new double[n * p];
        List<Integer> covered = new java.util.ArrayList<>();
        java.util.Set<org.influence4j.api.GradientBlock.Kind> kinds = new java.util.TreeSet<>();
        long columns = 0;
        for (org.influence4j.api.GradientBlock block : blocks) {
            kinds.add(block.kind());
            int size = 0;
            for (ParameterInfo info : layout) {
                if (info.offset() >= block.offset() && info.offset() < block.offset() + block.size()) {
                    covered.add(info.offset());
                    size += info.size();
                }
            }
            assertEquals(block.size(), size, "a block of whole parameters at " + block.offset());
            if (block.kind() == org.influence4j.api.GradientBlock.Kind.COLUMNS) {
                columns += block.size();
                double[] g = block.gradients().toDoubleArray();
                for (int i = 0; i < n; i++) {
                    System.arraycopy(g, i * block.size(), rebuilt, i * p + block.offset(), block.size());
                }
            } else if (block.kind() == org.influence4j.api.GradientBlock.Kind.EMBEDDING_ROWS) {
                int[] ids = block.ids();
                int dim = (int) block.outputGradients().shape()[2];
                double[] d = block.outputGradients().toDoubleArray();
                assertEquals((long) ids.length * dim, d.length, "δ [n, T, d] for n·T ids");
                for (int r = 0; r < ids.length; r++) {
                    int sample = r / (ids.length / n);
                    for (int c = 0; c < dim; c++) {
                        rebuilt[sample * p + block.offset() + ids[r] * dim + c] += d[r * dim + c];
                    }
                }
            } else {
                int in = (int) block.inputs().shape()[1];
                int out = (int) block.outputGradients().shape()[1];
                double[] a = block.inputs().toDoubleArray();
                double[] d = block.outputGradients().toDoubleArray();
                for (int i = 0; i < n; i++) {
                    for (int o = 0; o < out; o++) {
                        for (int c = 0; c <= in; c++) {
                            if (c < in || block.bias()) {
                                int column = c < in ? o * in + c : out * in + o;
                                rebuilt[i * p + block.offset() + column] = d[i * out + o] * (c < in ? a[i * in + c] : 1);
                            }
                        }
                    }
                }
            }
        }
        return new Rebuilt(rebuilt, covered, kinds, columns);
    }

    /**
     * A layer graph's Fisher factors (one forward pass, a backward pass per class) equal those of the
     * batch repeated per class, every copy labelled with its class: the first copy's inputs and ids,
     * every copy's output gradients times {@code √p_c(x_i)} of its sample (float64, 1e-12), for
     * classes {@code [1, C)}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void fisherLayerFactorsAreThoseOfTheRepeatedBatchWeightedByTheRootProbabilities(String name) {
        GraphFixture f = GraphFixture.load(name);
        Batch b = f.batch();
        int n = b.size();
        int c = f.spec().outputDim();
        double[] labels = new double[(c - 1) * n];
        for (int k = 1; k < c; k++) {
            java.util.Arrays.fill(labels, (k - 1) * n, k * n, k);
        }
        Batch repeated = new Batch(b.features().repeat(c - 1), labels, 1);
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            double[] p = TestSupport.softmaxRows(model.forward(b, scope).toDoubleArray(), c);
            List<org.influence4j.api.LayerGradientFactors> expected = model.layerGradientFactors(repeated, scope);
            List<org.influence4j.api.LayerGradientFactors> actual = model.fisherLayerGradientFactors(b, 1, c, scope);
            assertEquals(expected.size(), actual.size());
            for (int l = 0; l < actual.size(); l++) {
                org.influence4j.api.LayerGradientFactors e = expected.get(l);
                org.influence4j.api.LayerGradientFactors a = actual.get(l);
                String what = name + " layer " + e.layerIndex();
                int rows = n * e.positions();
                assertSameLayerAndFirstInputs(what, e, a, rows);
                double[] weighted = e.outputGradients().toDoubleArray();
                int out = e.outFeatures();
                for (int r = 0; r < weighted.length / out; r++) {
                    double root = Math.sqrt(p[(r % rows / e.positions()) * c + 1 + r / rows]);
                    for (int o = 0; o < out; o++) {
                        weighted[r * out + o] *= root;
                    }
                }
                assertClose(what + " output gradients", weighted, a.outputGradients().toDoubleArray(), 1e-12);
            }
        }
    }

    /**
     * pyDVL's pooled factors ({@link TwiceDifferentiable#pooledFisherLayerGradientFactors}): one δ row
     * per sample and position, the sum over all classes of the root-probability-weighted class blocks
     * of {@link TwiceDifferentiable#fisherLayerGradientFactors}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void pooledFisherLayerFactorsSumTheClassBlocksOfTheFisherFactors(String name) {
        GraphFixture f = GraphFixture.load(name);
        Batch b = f.batch();
        int c = f.spec().outputDim();
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            List<org.influence4j.api.LayerGradientFactors> classes = model.fisherLayerGradientFactors(b, 0, c, scope);
            List<org.influence4j.api.LayerGradientFactors> pooled = model.pooledFisherLayerGradientFactors(b, scope);
            assertEquals(classes.size(), pooled.size());
            for (int l = 0; l < pooled.size(); l++) {
                org.influence4j.api.LayerGradientFactors e = classes.get(l);
                org.influence4j.api.LayerGradientFactors a = pooled.get(l);
                String what = name + " layer " + e.layerIndex();
                assertSameLayerAndFirstInputs(what, e, a, b.size() * e.positions());
                double[] blocks = e.outputGradients().toDoubleArray();
                double[] sum = new double[blocks.length / c];
                for (int r = 0; r < blocks.length; r++) {
                    sum[r % sum.length] += blocks[r];
                }
                assertClose(what + " output gradients", sum, a.outputGradients().toDoubleArray(), 1e-12);
            }
        }
    }

    /**
     * Asserts that {@code a} is {@code e}'s layer with the same positions, its inputs (or ids)
     * {@code e}'s first {@code rows} rows.
     */
    private static void assertSameLayerAndFirstInputs(String what, org.influence4j.api.LayerGradientFactors e,
                                                      org.influence4j.api.LayerGradientFactors a, int rows) {
        assertEquals(e.layerIndex(), a.layerIndex(), what);
        assertEquals(e.positions(), a.positions(), what);
        if (e.inputs() == null) {
            assertArrayEquals(java.util.Arrays.copyOf(e.ids(), rows), a.ids(), what + " ids");
        } else {
            assertClose(what + " inputs", java.util.Arrays.copyOf(e.inputs().toDoubleArray(), rows * e.inFeatures()),
                    a.inputs().toDoubleArray(), 1e-12);
        }
    }

    static Stream<String> names() {
        return GraphFixture.NAMES.stream();
    }

    /**
     * Overlapping, padded pools (max_pool2d 3/2/1 as in a ResNet stem, avg_pool2d 3/1/1 counting
     * the padding) after a padded convolution: the im2col gathers repeat input columns and point at
     * the zero column, so their adjoints are exercised where the PyTorch fixtures' pools do not.
     * Per-sample gradients against central differences of the per-sample losses in every parameter,
     * and the Hessian-vector product against central differences of the mean-loss gradient.
     */
    @Test
    void overlappingPaddedPoolsMatchFiniteDifferences() {
        ModelSpec spec = ModelSpec.fromJson("{\"format\": 2, \"input\": {\"shape\": [1, 7, 7]}, \"layers\": ["
                + "{\"op\": \"conv2d\", \"in_channels\": 1, \"out_channels\": 2, \"kernel_size\": 3, \"padding\": 1},"
                + " {\"op\": \"relu\"}, {\"op\": \"max_pool2d\", \"kernel_size\": 3, \"stride\": 2, \"padding\": 1},"
                + " {\"op\": \"avg_pool2d\", \"kernel_size\": 3, \"stride\": 1, \"padding\": 1}, {\"op\": \"flatten\"},"
                + " {\"op\": \"dense\", \"in_features\": 32, \"out_features\": 3}],"
                + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float64\"}");
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        int n = 3;
        double[] x = new double[n * 49];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-1, 1);
        }
        Batch b = new Batch(x, 49, new double[] {0, 2, 1}, 1);
        double[] theta = spec.initialParameters(4);
        int p = theta.length;
        double h = 1e-5;
        try (TwiceDifferentiable model = backend().createModel(spec, theta); TensorScope scope = backend().newScope()) {
            double[] grads = model.perSampleGradients(b, scope).toDoubleArray();
            double[] fd = new double[n * p];
            for (int j = 0; j < p; j++) {
                double[] up = lossesAt(model, theta, j, h, b, scope);
                double[] down = lossesAt(model, theta, j, -h, b, scope);
                for (int i = 0; i < n; i++) {
                    fd[i * p + j] = (up[i] - down[i]) / (2 * h);
                }
            }
            model.setParameters(theta);
            assertClose("per-sample gradients", fd, grads, 1e-6);
            double[] v = new double[p];
            for (int j = 0; j < p; j++) {
                v[j] = random.nextGaussian();
            }
            double[] hv = model.hvp(b, scope.fromArray(v, DType.FLOAT64, p), scope).toDoubleArray();
            double[] gUp = gradientAt(model, theta, v, h, b, scope);
            double[] gDown = gradientAt(model, theta, v, -h, b, scope);
            double[] hvFd = new double[p];
            for (int j = 0; j < p; j++) {
                hvFd[j] = (gUp[j] - gDown[j]) / (2 * h);
            }
            assertClose("H v", hvFd, hv, 1e-6);
        }
    }

    private static double[] lossesAt(TwiceDifferentiable model, double[] theta, int j, double h, Batch b,
                                     TensorScope scope) {
        double[] moved = theta.clone();
        moved[j] += h;
        model.setParameters(moved);
        return model.perSampleLosses(b, scope).toDoubleArray();
    }

    private static double[] gradientAt(TwiceDifferentiable model, double[] theta, double[] v, double h, Batch b,
                                       TensorScope scope) {
        double[] moved = theta.clone();
        for (int j = 0; j < moved.length; j++) {
            moved[j] += h * v[j];
        }
        model.setParameters(moved);
        double[] g = model.gradient(b, scope).toDoubleArray();
        model.setParameters(theta);
        return g;
    }

    private static double vDotGradient(TwiceDifferentiable model, Batch b, int i, int c, double h, double[] v,
                                       TensorScope scope) {
        double[] x = b.x().clone();
        x[i * b.numFeatures() + c] += h;
        Batch moved = new Batch(x, b.numFeatures(), b.y(), 1).slice(i, i + 1);
        double[] g = model.perSampleGradients(moved, scope).toDoubleArray();
        double s = 0;
        for (int j = 0; j < v.length; j++) {
            s += v[j] * g[j];
        }
        return s;
    }

    @Test
    void idsOutsideTheVocabularyAreRefusedNamingTheArgument() {
        GraphFixture f = GraphFixture.load("embed_mean");
        double[] x = f.batch().x().clone();
        x[3] = 20;
        Batch bad = new Batch(x, f.batch().numFeatures(), f.batch().y(), 1);
        try (TwiceDifferentiable model = model(f, DType.FLOAT64); TensorScope scope = backend().newScope()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.perSampleGradients(bad, scope));
            assertTrue(e.getMessage().startsWith("batch: token id x[0][3]=20.0 is not an id in [0, 20)"),
                    e.getMessage());
            long[] ids = f.batch().features().longs().clone();
            ids[3] = 20;
            Batch badIds = new Batch(HostArray.ofLongs(ids, DType.FLOAT64, f.batch().features().shape()), f.batch().y(),
                    1);
            e = assertThrows(IllegalArgumentException.class, () -> model.perSampleGradients(badIds, scope));
            assertTrue(e.getMessage().startsWith("batch: token id x[0][3]=20 is not an id in [0, 20)"),
                    e.getMessage());
            Batch wide = new Batch(new double[7], 7, new double[] {0}, 1);
            e = assertThrows(IllegalArgumentException.class, () -> model.loss(wide));
            assertTrue(e.getMessage().contains("input shape [6]"), e.getMessage());
        }
    }

    @Test
    void stateDictsThatDoNotFitAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path files = GraphFixture.copyFiles("resnet", dir);
        GraphFixture f = GraphFixture.read("resnet", files);
        Map<String, HostArray> tensors = new LinkedHashMap<>(SafeTensors.read(files.resolve("state.safetensors")));
        Map<String, HostArray> missing = new LinkedHashMap<>(tensors);
        missing.remove("conv1.weight");
        Path file = dir.resolve("missing.safetensors");
        SafeTensors.write(file, missing, Map.of());
        Exception e = assertThrows(java.io.IOException.class, () -> ParameterFiles.readState(file, f.spec()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("conv1.weight"),
                e.getMessage());
        Map<String, HostArray> wrong = new LinkedHashMap<>(tensors);
        wrong.put("fc.bias", new HostArray(new double[4], new long[] {4}, DType.FLOAT64));
        Path file2 = dir.resolve("wrong.safetensors");
        SafeTensors.write(file2, wrong, Map.of());
        e = assertThrows(java.io.IOException.class, () -> ParameterFiles.readState(file2, f.spec()));
        assertTrue(e.getMessage().contains("'fc.bias' has shape [4]") && e.getMessage().contains("[3]"),
                e.getMessage());
        assertTrue(f.spec().equals(ModelSpec.fromJson(f.spec().toJson())), "the JSON form keeps the buffers");
        ModelSpec withoutState = ModelSpec.read(files.resolve("model.json"));
        assertTrue(!withoutState.equals(f.spec()), "the buffers of the state_dict are part of the spec");
    }
}
