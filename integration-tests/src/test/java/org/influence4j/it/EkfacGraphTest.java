package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.model.GraphNode;
import org.influence4j.api.model.Loss;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacLayer;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * EK-FAC on layer graphs (Conv2d as KFC, Embedding, Dense on positions, diagonal blocks for the
 * normalisations) on the four PyTorch fixture networks, checked against computations on the host
 * from quantities tested elsewhere against PyTorch (per-sample gradients, outputs, inputs):
 * <ul>
 *   <li>the refit diagonal equals {@code (1/n) Σ_i Σ_c p_ic ((Q_Gᵀ ⊗ Q_Aᵀ) g_ic)²} computed on the
 *       host from the per-sample gradients of every label (float64, 1e-8);</li>
 *   <li>the influence factors equal {@code Q diag(1/(d + λ)) Qᵀ g} on the host (1e-9);</li>
 *   <li>the input factor of the first convolution equals {@code (1/n) Σ_i Σ_t ã ãᵀ} from an im2col
 *       of the raw images on the host, and an embedding's equals the mean id counts (1e-12);</li>
 *   <li>every backend gives djl-pytorch's EK-FAC influences (float64 1e-8, float32 1e-3).</li>
 * </ul>
 */
class EkfacGraphTest {

    private static final double LAMBDA = 0.1;

    static Stream<String> fixtures() {
        return GraphFixture.NAMES.stream();
    }

    static Stream<Arguments> backendCases() {
        List<Arguments> out = new ArrayList<>();
        for (String backend : AvailableBackends.names()) {
            if (!backend.equals(AvailableBackends.REFERENCE)) {
                for (String fixture : GraphFixture.NAMES) {
                    for (DType dtype : DType.values()) {
                        out.add(Arguments.of(backend, fixture, dtype));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void refitDiagonalAndFactorsEqualTheHostComputation(String name) {
        GraphFixture f = GraphFixture.load(name);
        Backend backend = BackendDiscovery.load().require(AvailableBackends.REFERENCE);
        Batch batch = f.batch();
        int n = batch.size();
        int p = f.parameters().length;
        int classes = f.spec().outputDim();
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope();
             EkfacInfluence ekfac = new EkfacInfluence(model, new EkfacOptions(LAMBDA, true, EkfacCurvature.FISHER,
                     512))) {
            ekfac.fit(new InMemoryDataSource(batch));
            List<EkfacLayer> layers = ekfac.representation().orElseThrow();
            assertEquals(p, layers.stream().mapToInt(EkfacLayer::numParameters).sum(), "the blocks cover θ");
            double[] probs = Loss.softmaxRows(model.forward(batch, scope).toDoubleArray(), classes);
            double[][] expected = new double[layers.size()][];
            for (int l = 0; l < layers.size(); l++) {
                expected[l] = new double[layers.get(l).numParameters()];
            }
            for (int c = 0; c < classes; c++) {
                double[] labels = new double[n];
                Arrays.fill(labels, c);
                double[] g = model.perSampleGradients(new Batch(batch.x(), batch.numFeatures(), labels, 1), scope)
                        .toDoubleArray();
                for (int i = 0; i < n; i++) {
                    double[] row = Arrays.copyOfRange(g, i * p, (i + 1) * p);
                    for (int l = 0; l < layers.size(); l++) {
                        double[] k = toEigenbasis(layers.get(l), row);
                        for (int q = 0; q < k.length; q++) {
                            expected[l][q] += probs[i * classes + c] * k[q] * k[q] / n;
                        }
                    }
                }
            }
            for (int l = 0; l < layers.size(); l++) {
                double err = TestSupport.relErr(layers.get(l).diagonal(), expected[l]);
                assertTrue(err < 1e-8, name + " " + layers.get(l) + ": refit diagonal differs by " + err);
            }

            double[] g = model.perSampleGradients(batch, scope).toDoubleArray();
            double[] hostFactors = new double[n * p];
            for (int i = 0; i < n; i++) {
                double[] row = Arrays.copyOfRange(g, i * p, (i + 1) * p);
                for (EkfacLayer layer : layers) {
                    double[] k = toEigenbasis(layer, row);
                    double[] d = layer.diagonal();
                    for (int q = 0; q < k.length; q++) {
                        k[q] /= d[q] + LAMBDA;
                    }
                    System.arraycopy(fromEigenbasis(layer, k), 0, hostFactors, i * p + layer.parameterOffset(),
                            layer.numParameters());
                }
            }
            double err = TestSupport.relErr(ekfac.influenceFactors(batch, scope).toDoubleArray(), hostFactors);
            assertTrue(err < 1e-9, name + ": influence factors differ from the host solve by " + err);
            checkInputFactors(f, layers);
        }
    }

    /** The first convolution's A from a host im2col of the images; an embedding's from id counts. */
    private static void checkInputFactors(GraphFixture f, List<EkfacLayer> layers) {
        Batch batch = f.batch();
        int n = batch.size();
        double[] x = batch.x();
        for (EkfacLayer layer : layers) {
            GraphNode node = f.spec().graph().nodes().get(layer.layerIndex());
            double[] expected;
            if (layer.kind() == EkfacLayer.Kind.EMBEDDING) {
                expected = new double[layer.inFeatures()];
                for (double id : x) {
                    expected[(int) id] += 1.0 / n;
                }
            } else if (layer.kind() == EkfacLayer.Kind.CONV2D && layer.layerIndex() == 0) {
                expected = hostConvInputFactor((GraphNode.Conv2d) node, f.spec().graph().inputShape(), x, n);
            } else {
                continue;
            }
            double err = TestSupport.relErr(layer.inputFactor(), expected);
            assertTrue(err < 1e-12, f.name() + " " + layer + ": input factor differs by " + err);
        }
    }

    private static double[] hostConvInputFactor(GraphNode.Conv2d c, long[] shape, double[] x, int n) {
        int channels = (int) shape[0];
        int h = (int) shape[1];
        int w = (int) shape[2];
        int kh = c.kernel().h();
        int kw = c.kernel().w();
        int oh = (h + 2 * c.padding().h() - c.dilation().h() * (kh - 1) - 1) / c.stride().h() + 1;
        int ow = (w + 2 * c.padding().w() - c.dilation().w() * (kw - 1) - 1) / c.stride().w() + 1;
        int in = channels * kh * kw;
        int sa = in + (c.bias() ? 1 : 0);
        double[] a = new double[sa * sa];
        double[] patch = new double[sa];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < oh; r++) {
                for (int s = 0; s < ow; s++) {
                    int j = 0;
                    for (int ch = 0; ch < channels; ch++) {
                        for (int u = 0; u < kh; u++) {
                            for (int v = 0; v < kw; v++) {
                                int y = r * c.stride().h() - c.padding().h() + u * c.dilation().h();
                                int z = s * c.stride().w() - c.padding().w() + v * c.dilation().w();
                                boolean inside = y >= 0 && y < h && z >= 0 && z < w;
                                patch[j++] = inside ? x[((i * channels + ch) * h + y) * w + z] : 0;
                            }
                        }
                    }
                    if (c.bias()) {
                        patch[in] = 1;
                    }
                    for (int q = 0; q < sa; q++) {
                        for (int t = 0; t < sa; t++) {
                            a[q * sa + t] += patch[q] * patch[t] / n;
                        }
                    }
                }
            }
        }
        return a;
    }

    /** A layer's part of a flat gradient in its eigenbasis, written with plain loops. */
    private static double[] toEigenbasis(EkfacLayer layer, double[] g) {
        int off = layer.parameterOffset();
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        double[] k = new double[layer.numParameters()];
        double[] qg = layer.eigenvectorsG();
        switch (layer.kind()) {
            case DIAGONAL:
                System.arraycopy(g, off, k, 0, in);
                return k;
            case EMBEDDING:
                for (int v = 0; v < in; v++) {
                    for (int b = 0; b < out; b++) {
                        for (int a = 0; a < out; a++) {
                            k[v * out + b] += g[off + v * out + a] * qg[a * out + b];
                        }
                    }
                }
                return k;
            default:
                int sa = layer.augmentedInFeatures();
                double[] qa = layer.eigenvectorsA();
                double[] m = matrix(layer, g);
                for (int o2 = 0; o2 < out; o2++) {
                    for (int j2 = 0; j2 < sa; j2++) {
                        double sum = 0;
                        for (int o = 0; o < out; o++) {
                            for (int j = 0; j < sa; j++) {
                                sum += qg[o * out + o2] * m[o * sa + j] * qa[j * sa + j2];
                            }
                        }
                        k[o2 * sa + j2] = sum;
                    }
                }
                return k;
        }
    }

    /** The inverse of {@link #toEigenbasis}, in the layer's flat order (W row-major, then b). */
    private static double[] fromEigenbasis(EkfacLayer layer, double[] k) {
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        double[] qg = layer.eigenvectorsG();
        double[] g = new double[layer.numParameters()];
        switch (layer.kind()) {
            case DIAGONAL:
                return k.clone();
            case EMBEDDING:
                for (int v = 0; v < in; v++) {
                    for (int a = 0; a < out; a++) {
                        for (int b = 0; b < out; b++) {
                            g[v * out + a] += k[v * out + b] * qg[a * out + b];
                        }
                    }
                }
                return g;
            default:
                int sa = layer.augmentedInFeatures();
                double[] qa = layer.eigenvectorsA();
                for (int o = 0; o < out; o++) {
                    for (int j = 0; j < sa; j++) {
                        double sum = 0;
                        for (int o2 = 0; o2 < out; o2++) {
                            for (int j2 = 0; j2 < sa; j2++) {
                                sum += qg[o * out + o2] * k[o2 * sa + j2] * qa[j * sa + j2];
                            }
                        }
                        g[j < in ? o * in + j : out * in + o] = sum;
                    }
                }
                return g;
        }
    }

    /** {@code [W | b]} of a Dense or Conv2d layer from a flat gradient, {@code [out, sa]}. */
    private static double[] matrix(EkfacLayer layer, double[] g) {
        int off = layer.parameterOffset();
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        int sa = layer.augmentedInFeatures();
        double[] m = new double[out * sa];
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < in; j++) {
                m[o * sa + j] = g[off + o * in + j];
            }
            if (layer.bias()) {
                m[o * sa + in] = g[off + out * in + o];
            }
        }
        return m;
    }

    private static double[] influences(String backendName, GraphFixture f, DType dtype) {
        Backend backend = BackendDiscovery.load().require(backendName);
        try (TwiceDifferentiable model = backend.createModel(f.spec().withDType(dtype), f.parameters());
             TensorScope scope = backend.newScope();
             EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(LAMBDA, true))) {
            ekfac.fit(new InMemoryDataSource(f.batch()));
            Tensor values = ekfac.influences(f.batch(), f.batch(), InfluenceMode.UP, scope);
            return values.toDoubleArray();
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("backendCases")
    void everyBackendGivesTheEkfacInfluencesOfTheReference(String backend, String fixture, DType dtype) {
        GraphFixture f = GraphFixture.load(fixture);
        double err = TestSupport.relErr(influences(backend, f, dtype), influences(AvailableBackends.REFERENCE, f,
                dtype));
        double tolerance = dtype == DType.FLOAT64 ? 1e-8 : 1e-3;
        assertTrue(err < tolerance, backend + " " + fixture + " " + dtype + ": EK-FAC influences differ by " + err);
    }
}
