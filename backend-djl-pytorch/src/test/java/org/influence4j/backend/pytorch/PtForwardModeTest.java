package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ModelGraph;
import org.influence4j.api.model.ParameterInfo;
import org.influence4j.backend.djl.DjlKernels;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.backend.testkit.TestSupport;
import org.influence4j.graph.Autodiff;
import org.influence4j.graph.Autodiff.Var;
import org.influence4j.graph.GraphEvaluator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Forward mode ({@link Autodiff#jvp}) in float64 on libtorch: every operation's tangent rule is the
 * transpose of its adjoint ({@code ⟨u, J t⟩ = ⟨Jᵀu, t⟩}, 1e-12) and matches central differences;
 * and on the PyTorch fixtures, the forward-mode derivative of the recorded gradient (a pass that
 * runs every backward rule's tangent, the transposed native convolution included) equals PyTorch's
 * Hessian-vector product.
 */
class PtForwardModeTest {

    private record Case(String name, long[][] shapes,
                        BiFunction<Autodiff<NDArray>, List<Var<NDArray>>, Var<NDArray>> f) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> operations() {
        int[] rows = {2, 0, 2, 1};
        int[] columns = {3, 0, 4, 3, 1};
        return Stream.of(
                new Case("add", shapes(3, 4, 3, 4), (ad, v) -> ad.add(v.get(0), v.get(1))),
                new Case("sub", shapes(3, 4, 3, 4), (ad, v) -> ad.sub(v.get(0), v.get(1))),
                new Case("mul", shapes(3, 4, 3, 4), (ad, v) -> ad.mul(v.get(0), v.get(1))),
                new Case("div", shapes(3, 4, 3, 4), (ad, v) -> ad.div(v.get(0), ad.addScalar(ad.exp(v.get(1)), 1))),
                new Case("scale", shapes(3, 4), (ad, v) -> ad.scale(v.get(0), -2.5)),
                new Case("matmul", shapes(3, 4, 4, 2), (ad, v) -> ad.matmul(v.get(0), v.get(1))),
                new Case("batched matmul", new long[][] {{2, 3, 4}, {2, 4, 2}},
                        (ad, v) -> ad.matmul(v.get(0), v.get(1))),
                new Case("permute", new long[][] {{2, 3, 4}}, (ad, v) -> ad.permute(v.get(0), 2, 0, 1)),
                new Case("reshape, expand and sumTo", shapes(1, 4),
                        (ad, v) -> ad.sumTo(ad.reshape(ad.expand(v.get(0), 3, 4), 4, 3), 1, 3)),
                new Case("exp", shapes(3, 4), (ad, v) -> ad.exp(v.get(0))),
                new Case("log", shapes(3, 4), (ad, v) -> ad.log(ad.addScalar(ad.mul(v.get(0), v.get(0)), 1))),
                new Case("tanh", shapes(3, 4), (ad, v) -> ad.tanh(v.get(0))),
                new Case("sigmoid", shapes(3, 4), (ad, v) -> ad.sigmoid(v.get(0))),
                new Case("erf", shapes(3, 4), (ad, v) -> ad.erf(v.get(0))),
                new Case("sqrt", shapes(3, 4), (ad, v) -> ad.sqrt(ad.exp(v.get(0)))),
                new Case("softplus", shapes(3, 4), (ad, v) -> ad.softplus(v.get(0))),
                new Case("gatherRows and scatterRows", shapes(3, 4),
                        (ad, v) -> ad.scatterRows(ad.mul(ad.gatherRows(v.get(0), rows), ad.gatherRows(v.get(0),
                                rows)), rows, 5)),
                new Case("gatherPaddedColumns and scatterPaddedColumns", shapes(2, 4),
                        (ad, v) -> ad.scatterPaddedColumns(ad.tanh(ad.gatherPaddedColumns(v.get(0), columns)),
                                columns, 4)),
                new Case("slicePadRows", shapes(3, 4), (ad, v) -> ad.slicePadRows(v.get(0), -1, 2)),
                new Case("concat", shapes(3, 4, 3, 2),
                        (ad, v) -> ad.concat(List.of(ad.tanh(v.get(0)), v.get(1), v.get(0)), 1)),
                new Case("firstMaxLast", new long[][] {{2, 3, 4}},
                        (ad, v) -> ad.firstMaxLast(ad.mul(v.get(0), v.get(0)),
                                ad.mul(v.get(0), v.get(0)).value())),
                new Case("sumAll of a product with a constant", shapes(3, 4),
                        (ad, v) -> ad.sumAll(ad.mul(v.get(0), ad.constant(new double[] {
                            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 4)))));
    }

    private static long[][] shapes(long... pairs) {
        long[][] out = new long[pairs.length / 2][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new long[] {pairs[2 * i], pairs[2 * i + 1]};
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void everyTangentIsTheTransposeOfItsAdjointAndMatchesCentralDifferences(Case c) {
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, DataType.FLOAT64, PtArrays::owned, PtBackend.INDEXING);
            Autodiff<NDArray> ad = new Autodiff<>(k);
            SplittableRandom r = new SplittableRandom(c.name().hashCode());
            List<double[]> x = new ArrayList<>();
            List<Var<NDArray>> leaves = new ArrayList<>();
            List<Var<NDArray>> tangents = new ArrayList<>();
            List<double[]> t = new ArrayList<>();
            for (long[] s : c.shapes()) {
                double[] values = random(r, s);
                double[] direction = random(r, s);
                x.add(values);
                t.add(direction);
                leaves.add(ad.leaf(k.constant(values, s)));
                tangents.add(ad.constant(direction, s));
            }
            Var<NDArray> y = c.f().apply(ad, leaves);
            double[] jvp = k.toDoubles(ad.jvp(y, leaves, tangents).value());
            double[] u = random(r, k.shape(y.value()));
            List<Var<NDArray>> vjp = ad.grad(y, ad.constant(u, k.shape(y.value())), leaves, false);
            double left = TestSupport.dot(u, jvp);
            double right = 0;
            for (int i = 0; i < leaves.size(); i++) {
                right += TestSupport.dot(k.toDoubles(vjp.get(i).value()), t.get(i));
            }
            assertEquals(right, left, 1e-12 * Math.max(1, Math.abs(right)), c + ": ⟨u, J t⟩ = ⟨Jᵀu, t⟩");

            double h = 1e-6;
            double[] plus = k.toDoubles(c.f().apply(ad, shifted(ad, x, t, c.shapes(), h)).value());
            double[] minus = k.toDoubles(c.f().apply(ad, shifted(ad, x, t, c.shapes(), -h)).value());
            for (int j = 0; j < jvp.length; j++) {
                double difference = (plus[j] - minus[j]) / (2 * h);
                assertEquals(difference, jvp[j], 1e-6 * Math.max(1, Math.abs(difference)), c + " entry " + j);
            }
        }
    }

    static Stream<Arguments> fixtures() {
        return GraphFixture.NAMES.stream().map(Arguments::of);
    }

    /**
     * Forward over reverse: the tangent of the recorded mean-loss gradient in the direction v is
     * PyTorch's {@code H v} (the fixture's {@code hvp}). The sweep runs the tangent of every backward
     * rule (transposed native convolutions, weight gradients from patches, pool scatters, the
     * embedding's row scatter), which the Gauss-Newton products' forward pass does not reach.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void theTangentOfTheRecordedGradientIsPyTorchsHessianVectorProduct(String name) {
        GraphFixture f = GraphFixture.load(name);
        ModelGraph graph = f.spec().graph();
        Batch b = f.batch();
        int n = b.size();
        try (NDManager m = Engine.getEngine("PyTorch").newBaseManager()) {
            DjlKernels k = new DjlKernels(m, DataType.FLOAT64, PtArrays::owned, PtBackend.INDEXING);
            Autodiff<NDArray> ad = new Autodiff<>(k);
            GraphEvaluator<NDArray> evaluator = new GraphEvaluator<>(graph, GraphEvaluator.newIndexCache(), ad);
            List<Var<NDArray>> leaves = new ArrayList<>();
            List<Var<NDArray>> directions = new ArrayList<>();
            for (ParameterInfo info : graph.parameterLayout()) {
                int from = info.offset();
                int to = from + info.size();
                leaves.add(ad.leaf(k.constant(java.util.Arrays.copyOfRange(f.parameters(), from, to), info.shape())));
                directions.add(ad.constant(java.util.Arrays.copyOfRange(f.v(), from, to), info.shape()));
            }
            Var<NDArray> x = null;
            int[] ids = null;
            if (graph.intInput()) {
                ids = new int[b.features().size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = (int) b.features().get(i);
                }
            } else {
                long[] in = graph.inputShape();
                long[] s = new long[in.length + 1];
                s[0] = n;
                System.arraycopy(in, 0, s, 1, in.length);
                x = ad.constant(k.constant(b.features(), s));
            }
            Var<NDArray> z = evaluator.outputs(x, ids, n, leaves, false);
            Var<NDArray> losses = evaluator.perSampleLosses(z, graph.loss().targets(b.y(), graph.outputDim()));
            Var<NDArray> mean = ad.scale(ad.sumAll(losses), 1.0 / n);
            List<Var<NDArray>> gradient = ad.grad(mean, null, leaves, true);
            List<Var<NDArray>> flat = new ArrayList<>();
            for (Var<NDArray> g : gradient) {
                flat.add(ad.reshape(g, TestSupport.size(k.shape(g.value()))));
            }
            double[] hv = k.toDoubles(ad.jvp(ad.concat(flat, 0), leaves, directions).value());
            double scale = Math.max(1e-300, TestSupport.norm(f.hvp()));
            double error = TestSupport.norm(TestSupport.axpy(-1, f.hvp(), hv)) / scale;
            assertTrue(error < 1e-10, name + ": forward-over-reverse H v, relative error " + error);
        }
    }

    private static List<Var<NDArray>> shifted(Autodiff<NDArray> ad, List<double[]> x, List<double[]> t,
                                              long[][] shapes, double h) {
        List<Var<NDArray>> out = new ArrayList<>();
        for (int i = 0; i < x.size(); i++) {
            out.add(ad.constant(TestSupport.axpy(h, t.get(i), x.get(i)), shapes[i]));
        }
        return out;
    }

    private static double[] random(SplittableRandom r, long[] shape) {
        double[] out = new double[(int) TestSupport.size(shape)];
        for (int i = 0; i < out.length; i++) {
            out[i] = r.nextDouble(-1, 1);
        }
        return out;
    }
}
