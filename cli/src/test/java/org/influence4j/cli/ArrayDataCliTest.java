package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.Npy;
import org.influence4j.io.Npz;
import org.influence4j.io.SafeTensors;
import org.influence4j.backend.testkit.GraphFixture;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.registry.BackendDiscovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The computing commands on layer graphs with typed array data ({@code --train X --train-labels Y},
 * {@code --test X --test-labels Y}: .npy, .npz, .safetensors) and {@code --curvature gauss-newton},
 * on the PyTorch fixtures of the backend test kit (model.json, the state_dict state.safetensors,
 * x.npy, y.npy as PyTorch wrote them). The influences are checked against an independent float64
 * computation: the Gauss-Newton matrix G formed explicitly ({@code gaussNewtonBlock} with the
 * identity, itself checked against PyTorch's G·v; for resnet only on the subspace the gradients
 * span, see {@link Reference#ofKrylov}), G + λI factorised by a plain Cholesky decomposition, and
 * PyTorch's per-sample gradients g_i (grads.npy); then
 * self-influence_i = ⟨g_i, (G + λI)⁻¹ g_i⟩ and influence[t, i] = ⟨g_t, (G + λI)⁻¹ g_i⟩ (positive =
 * proponent, as {@link SubcommandsTest} checks for the Hessian).
 */
class ArrayDataCliTest {

    private static final double LAMBDA = 0.01;

    @TempDir
    Path dir;

    /** The command with the fixture's {@code --spec} and {@code --parameters} from its copied files. */
    private static String[] args(Path files, String command, String... extra) {
        List<String> args = new ArrayList<>(List.of(command, "--spec", files.resolve("model.json").toString(),
                "--parameters", files.resolve("state.safetensors").toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private static Influence4jCommandTest.Run ok(String... args) {
        Influence4jCommandTest.Run run = Influence4jCommandTest.run(args);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        return run;
    }

    /** (G + λI)⁻¹ applied to PyTorch's gradients, formed independently of the solvers. */
    private record Reference(int n, int p, double[] grads, double[] solved) {

        static Reference of(GraphFixture f) {
            int n = f.batch().size();
            int p = f.parameters().length;
            Backend backend = BackendDiscovery.load().require("djl-pytorch");
            double[] g;
            try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
                 TensorScope scope = backend.newScope()) {
                g = model.gaussNewtonBlock(f.batch(), scope.eye(DType.FLOAT64, p), scope).toDoubleArray();
            }
            // G itself: PyTorch's Gauss-Newton product with v
            double[] gv = new double[p];
            double scale = 0;
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < p; j++) {
                    gv[i] += g[i * p + j] * f.v()[j];
                }
                scale = Math.max(scale, Math.abs(f.gnvp()[i]));
            }
            for (int i = 0; i < p; i++) {
                assertEquals(f.gnvp()[i], gv[i], 1e-10 * scale, "G·v entry " + i);
            }
            double[] a = g.clone();
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < i; j++) {
                    double s = (a[i * p + j] + a[j * p + i]) / 2;
                    a[i * p + j] = s;
                    a[j * p + i] = s;
                }
                a[i * p + i] += LAMBDA;
            }
            double[] l = cholesky(a, p);
            double[] solved = new double[n * p];
            for (int i = 0; i < n; i++) {
                double[] x = solve(l, p, Arrays.copyOfRange(f.grads(), i * p, (i + 1) * p));
                System.arraycopy(x, 0, solved, i * p, p);
            }
            return new Reference(n, p, f.grads(), solved);
        }

        /**
         * The same solve without forming G (p directions of a Gauss-Newton product are slow on
         * resnet): G = (1/n) Σ J_iᵀ H_i J_i has rank at most n·(classes − 1), and every gradient
         * g_i = J_iᵀ(softmax_i − onehot_i) lies in its range, so Q, an orthonormal basis of
         * span{g, Gg, G²g}, spans a G-invariant subspace that holds the gradients (checked below), and
         * (G + λI)⁻¹ g_i = Q (QᵀGQ + λI)⁻¹ Qᵀ g_i exactly (Rayleigh-Ritz).
         */
        static Reference ofKrylov(GraphFixture f) {
            int n = f.batch().size();
            int p = f.parameters().length;
            Backend backend = BackendDiscovery.load().require("djl-pytorch");
            try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
                 TensorScope scope = backend.newScope()) {
                double[] gg = model.gaussNewtonBlock(f.batch(), scope.fromArray(f.grads(), DType.FLOAT64, n, p), scope)
                        .toDoubleArray();
                double[] ggg = model.gaussNewtonBlock(f.batch(), scope.fromArray(gg, DType.FLOAT64, n, p), scope)
                        .toDoubleArray();
                List<double[]> basis = new ArrayList<>();
                for (double[] block : List.of(f.grads(), gg, ggg)) {
                    for (int i = 0; i < n; i++) {
                        double[] v = Arrays.copyOfRange(block, i * p, (i + 1) * p);
                        double norm0 = norm(v);
                        for (int pass = 0; pass < 2; pass++) {
                            for (double[] q : basis) {
                                double d = dot(q, v);
                                for (int k = 0; k < p; k++) {
                                    v[k] -= d * q[k];
                                }
                            }
                        }
                        double norm = norm(v);
                        if (norm > 1e-9 * norm0) {
                            for (int k = 0; k < p; k++) {
                                v[k] /= norm;
                            }
                            basis.add(v);
                        }
                    }
                }
                int r = basis.size();
                assertTrue(r <= n * (f.spec().outputDim() - 1), "rank of G is at most n (classes - 1), got " + r);
                double[] q = new double[r * p];
                for (int j = 0; j < r; j++) {
                    System.arraycopy(basis.get(j), 0, q, j * p, p);
                }
                double[] gq = model.gaussNewtonBlock(f.batch(), scope.fromArray(q, DType.FLOAT64, r, p), scope)
                        .toDoubleArray();
                double[] t = new double[r * r];
                for (int a = 0; a < r; a++) {
                    for (int b = 0; b < r; b++) {
                        t[a * r + b] = dot(basis.get(a), Arrays.copyOfRange(gq, b * p, (b + 1) * p));
                    }
                }
                double scale = 0;
                for (int b = 0; b < r; b++) {
                    double[] gqb = Arrays.copyOfRange(gq, b * p, (b + 1) * p);
                    scale = Math.max(scale, norm(gqb));
                    for (int a = 0; a < r; a++) {
                        for (int k = 0; k < p; k++) {
                            gqb[k] -= t[a * r + b] * basis.get(a)[k];
                        }
                    }
                    assertTrue(norm(gqb) <= 1e-8 * scale, "span(Q) must be G-invariant: residual " + norm(gqb));
                }
                for (int a = 0; a < r; a++) {
                    for (int b = 0; b < a; b++) {
                        double s = (t[a * r + b] + t[b * r + a]) / 2;
                        t[a * r + b] = s;
                        t[b * r + a] = s;
                    }
                    t[a * r + a] += LAMBDA;
                }
                double[] l = cholesky(t, r);
                double[] solved = new double[n * p];
                for (int i = 0; i < n; i++) {
                    double[] g = Arrays.copyOfRange(f.grads(), i * p, (i + 1) * p);
                    double[] c = new double[r];
                    for (int a = 0; a < r; a++) {
                        c[a] = dot(basis.get(a), g);
                    }
                    double[] rest = g.clone();
                    for (int a = 0; a < r; a++) {
                        for (int k = 0; k < p; k++) {
                            rest[k] -= c[a] * basis.get(a)[k];
                        }
                    }
                    assertTrue(norm(rest) <= 1e-9 * norm(g), "g_" + i + " must lie in span(Q)");
                    double[] z = solve(l, r, c);
                    for (int a = 0; a < r; a++) {
                        for (int k = 0; k < p; k++) {
                            solved[i * p + k] += z[a] * basis.get(a)[k];
                        }
                    }
                }
                return new Reference(n, p, f.grads(), solved);
            }
        }

        private static double dot(double[] a, double[] b) {
            double s = 0;
            for (int k = 0; k < a.length; k++) {
                s += a[k] * b[k];
            }
            return s;
        }

        private static double norm(double[] a) {
            return Math.sqrt(dot(a, a));
        }

        /** @return ⟨g_t, (G + λI)⁻¹ g_i⟩ */
        double influence(int t, int i) {
            double s = 0;
            for (int k = 0; k < p; k++) {
                s += grads[t * p + k] * solved[i * p + k];
            }
            return s;
        }

        /** Lower-triangular L with L Lᵀ = a (row-major p × p). */
        private static double[] cholesky(double[] a, int p) {
            double[] l = new double[p * p];
            for (int i = 0; i < p; i++) {
                for (int j = 0; j <= i; j++) {
                    double s = a[i * p + j];
                    for (int k = 0; k < j; k++) {
                        s -= l[i * p + k] * l[j * p + k];
                    }
                    if (i == j) {
                        assertTrue(s > 0, "G + λI must be positive definite");
                        l[i * p + i] = Math.sqrt(s);
                    } else {
                        l[i * p + j] = s / l[j * p + j];
                    }
                }
            }
            return l;
        }

        private static double[] solve(double[] l, int p, double[] b) {
            double[] y = new double[p];
            for (int i = 0; i < p; i++) {
                double s = b[i];
                for (int k = 0; k < i; k++) {
                    s -= l[i * p + k] * y[k];
                }
                y[i] = s / l[i * p + i];
            }
            double[] x = new double[p];
            for (int i = p - 1; i >= 0; i--) {
                double s = y[i];
                for (int k = i + 1; k < p; k++) {
                    s -= l[k * p + i] * x[k];
                }
                x[i] = s / l[i * p + i];
            }
            return x;
        }
    }

    private static void assertSelfInfluences(Reference ref, Path file) throws IOException {
        HostArray self = Npy.read(file);
        assertArrayEquals(new long[] {ref.n()}, self.shape());
        assertEquals(DType.FLOAT64, self.dtype());
        for (int i = 0; i < ref.n(); i++) {
            double expected = ref.influence(i, i);
            assertTrue(expected > 0);
            assertEquals(expected, self.data()[i], 1e-6 * expected, "self-influence " + i);
        }
    }

    private static void assertInfluences(Reference ref, Path file) throws IOException {
        HostArray values = Npy.read(file);
        int n = ref.n();
        assertArrayEquals(new long[] {n, n}, values.shape());
        double scale = Arrays.stream(values.data()).map(Math::abs).max().orElseThrow();
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < n; i++) {
                double expected = ref.influence(t, i);
                assertEquals(expected, values.data()[t * n + i], 1e-6 * Math.max(Math.abs(expected), 1e-3 * scale),
                        "influence[" + t + ", " + i + "]");
            }
        }
    }

    @Test
    void lenetWithConjugateGradientsOnTheGaussNewtonMatrixEqualsAnExplicitSolve() throws IOException {
        Path files = GraphFixture.copyFiles("lenet", dir);
        GraphFixture f = GraphFixture.read("lenet", files);
        String x = files.resolve("x.npy").toString();
        String y = files.resolve("y.npy").toString();
        String[] inversion = {"--method", "cg", "--curvature", "gauss-newton", "--lambda", Double.toString(LAMBDA),
                "-Dinfluence.inversion.cg.rtol=1e-12", "-Dinfluence.inversion.cg.atol=1e-14"};
        Path self = dir.resolve("self.npy");
        List<String> a = new ArrayList<>(List.of("--train", x, "--train-labels", y));
        a.addAll(List.of(inversion));
        a.addAll(List.of("-o", self.toString()));
        Influence4jCommandTest.Run run = ok(args(files, "self-influence", a.toArray(String[]::new)));
        assertTrue(run.out().contains("wrote self-influence [8]"), run.out());
        Path influences = dir.resolve("influences.npy");
        a = new ArrayList<>(List.of("--train", x, "--train-labels", y, "--test", x, "--test-labels", y));
        a.addAll(List.of(inversion));
        a.addAll(List.of("-o", influences.toString()));
        ok(args(files, "influences", a.toArray(String[]::new)));

        Reference ref = Reference.of(f);
        assertSelfInfluences(ref, self);
        assertInfluences(ref, influences);
    }

    /**
     * {@code --method ekfac} in self-influence and top-k: the library's EK-FAC through the
     * attribution adapter, checked against the diagonal and the row-wise top-k of the EK-FAC
     * influences the Java API computes.
     */
    @Test
    void ekfacSelfInfluenceAndTopKOnLenet() throws IOException {
        Path files = GraphFixture.copyFiles("lenet", dir);
        GraphFixture f = GraphFixture.read("lenet", files);
        String x = files.resolve("x.npy").toString();
        String y = files.resolve("y.npy").toString();
        String[] inversion = {"--method", "ekfac", "--lambda", Double.toString(LAMBDA),
                "-Dinfluence.inversion.ekfac.update_diagonal=true"};
        Path self = dir.resolve("ekfac-self.npy");
        List<String> a = new ArrayList<>(List.of("--train", x, "--train-labels", y, "-o", self.toString()));
        a.addAll(List.of(inversion));
        ok(args(files, "self-influence", a.toArray(String[]::new)));
        Path top = dir.resolve("ekfac-top.csv");
        a = new ArrayList<>(List.of("--train", x, "--train-labels", y, "--test", x, "--test-labels", y, "-k", "2",
                "-o", top.toString()));
        a.addAll(List.of(inversion));
        ok(args(files, "top-k", a.toArray(String[]::new)));

        int n = f.batch().size();
        double[] expected;
        Backend backend = BackendDiscovery.load().require("djl-pytorch");
        try (TwiceDifferentiable model = backend.createModel(f.spec(), f.parameters());
             TensorScope scope = backend.newScope();
             EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(LAMBDA, true))) {
            ekfac.fit(new InMemoryDataSource(f.batch()));
            expected = ekfac.influences(f.batch(), f.batch(), InfluenceMode.UP, scope)
                    .toDoubleArray();
        }
        double[] values = Npy.read(self).data();
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i * n + i], values[i], 1e-9 * Math.abs(expected[i * n + i]), "self-influence " + i);
        }
        List<String> rows = Files.readAllLines(top);
        List<String> want = new ArrayList<>(List.of("test,kind,rank,train,influence"));
        for (TopKOrder order
                : TopKOrder.values()) {
            TopK best =
                    TopK.ofMatrix(expected, n, n, 2, order);
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < 2; r++) {
                    want.add(t + "," + (order == TopKOrder.PROPONENTS
                            ? "proponent" : "opponent") + "," + (r + 1) + "," + best.indices(t)[r]);
                }
            }
        }
        assertEquals(want.size(), rows.size(), String.join("\n", rows));
        for (String w : want.subList(1, want.size())) {
            assertTrue(rows.stream().anyMatch(r -> r.startsWith(w + ",")), "top-k row " + w + " missing in " + rows);
        }
    }

    @Test
    void embedMeanTokenIdsFromNpyNpzAndSafetensors() throws IOException {
        Path files = GraphFixture.copyFiles("embed_mean", dir);
        GraphFixture f = GraphFixture.read("embed_mean", files);
        Path x = files.resolve("x.npy");
        Path y = files.resolve("y.npy");
        assertTrue(new String(Files.readAllBytes(x), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("'descr': '<i8'"), "the fixture's ids are int64");
        Path self = dir.resolve("self.npy");
        ok(args(files, "self-influence", "--train", x.toString(), "--train-labels", y.toString(), "--method", "direct",
                "--curvature", "gauss-newton", "--lambda", Double.toString(LAMBDA), "-o", self.toString()));
        Reference ref = Reference.of(f);
        assertSelfInfluences(ref, self);
        // the curvature from the configuration (influence.curvature) survives --lambda
        Path configured = dir.resolve("configured.npy");
        ok(args(files, "self-influence", "--train", x.toString(), "--train-labels", y.toString(), "--method", "direct",
                "-Dinfluence.curvature=gauss-newton", "--lambda", Double.toString(LAMBDA), "--batch-size", "3",
                "-o", configured.toString()));
        assertArrayEquals(Npy.read(self).data(), Npy.read(configured).data(), 1e-12 * Npy.read(self).data()[0]);

        // the same data as an .npz archive (x and y) and a .safetensors file (ids, labels)
        HostArray ids = Npy.read(x);
        HostArray labels = Npy.read(y);
        Path npz = dir.resolve("data.npz");
        Map<String, HostArray> arrays = new LinkedHashMap<>();
        arrays.put("x", ids);
        arrays.put("y", labels);
        Npz.write(npz, arrays, true);
        Path st = dir.resolve("data.safetensors");
        Map<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("ids", ids);
        tensors.put("labels", labels);
        SafeTensors.write(st, tensors, Map.of());
        Path influences = dir.resolve("influences.npy");
        ok(args(files, "influences", "--train", st + ":ids", "--train-labels", st + ":labels", "--test", npz.toString(),
                "--method", "direct", "--curvature", "gauss-newton", "--lambda", Double.toString(LAMBDA),
                "-o", influences.toString()));
        assertInfluences(ref, influences);
    }

    @Test
    void theBatchNormBuffersOfTheStateDictAreUsed() throws IOException {
        // resnet: eval-mode batch norm with running statistics that only the state_dict holds; the
        // reference gradients are PyTorch's with those statistics
        Path files = GraphFixture.copyFiles("resnet", dir);
        GraphFixture f = GraphFixture.read("resnet", files);
        Path self = dir.resolve("self.npy");
        ok(args(files, "self-influence", "--train", files.resolve("x.npy").toString(), "--train-labels",
                files.resolve("y.npy").toString(), "--method", "cg", "-Dinfluence.inversion.cg.block=true",
                "-Dinfluence.inversion.cg.rtol=1e-12", "-Dinfluence.inversion.cg.atol=1e-14", "--curvature",
                "gauss-newton", "--lambda", Double.toString(LAMBDA), "-o", self.toString()));
        assertSelfInfluences(Reference.ofKrylov(f), self);

        // train keeps them: the buffers come back unchanged in its output, the parameters move
        Path trained = dir.resolve("trained.safetensors");
        ok(args(files, "train", "--train", files.resolve("x.npy").toString(), "--train-labels",
                files.resolve("y.npy").toString(), "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1",
                "-o", trained.toString()));
        Map<String, HostArray> before = SafeTensors.read(files.resolve("state.safetensors"));
        Map<String, HostArray> after = SafeTensors.read(trained);
        assertEquals(before.keySet(), after.keySet());
        assertArrayEquals(before.get("bn1.running_var").data(), after.get("bn1.running_var").data());
        assertArrayEquals(before.get("bn0.running_mean").data(), after.get("bn0.running_mean").data());
        assertTrue(!Arrays.equals(before.get("fc.weight").data(), after.get("fc.weight").data()));
    }

    @Test
    void everyComputingCommandTakesArrayData() throws IOException {
        Path files = GraphFixture.copyFiles("embed_mean", dir);
        String x = files.resolve("x.npy").toString();
        String y = files.resolve("y.npy").toString();
        String[] train = {"--train", x, "--train-labels", y};
        String[] test = {"--test", x, "--test-labels", y};
        String[] gn = {"--method", "direct", "--curvature", "gauss-newton", "--lambda", "0.01"};

        Path topK = dir.resolve("top.csv");
        ok(args(files, "top-k", concat(train, test, gn, new String[] {"-k", "2", "-o", topK.toString()})));
        assertEquals(1 + 8 * 4, Files.readAllLines(topK).size());

        Influence4jCommandTest.Run run = ok(args(files, "compare", concat(train, test, gn,
                new String[] {"--backends", "djl-pytorch"})));
        assertTrue(run.out().contains("(reference)"), run.out());

        run = ok(args(files, "validate", concat(train, test, gn, new String[] {"--check", "lds", "--subsets", "3",
                "--epochs", "1", "--minibatch", "4"})));
        assertTrue(run.out().contains("LDS = "), run.out());

        Path checkpoints = dir.resolve("ckpt");
        ok(args(files, "train", concat(train, new String[] {"--optimizer", "sgd", "--epochs", "2", "--minibatch", "4",
                "--checkpoints", checkpoints.toString(), "-o", dir.resolve("sgd.safetensors").toString()})));
        Path tracin = dir.resolve("tracin.npy");
        ok("tracin", "--spec", files.resolve("model.json").toString(), "--checkpoints", checkpoints.toString(),
                "--what", "influences", "--train", x, "--train-labels", y, "--test", x, "--test-labels", y,
                "-o", tracin.toString());
        assertArrayEquals(new long[] {8, 8}, Npy.read(tracin).shape());
    }

    @Test
    void badArrayInputEndsWithOneLineNamingTheFileAndTheFix() throws IOException {
        Path lenetFiles = GraphFixture.copyFiles("lenet", dir);
        GraphFixture lenet = GraphFixture.read("lenet", lenetFiles);
        Path embedFiles = GraphFixture.copyFiles("embed_mean", dir);
        String x = lenetFiles.resolve("x.npy").toString();
        String y = lenetFiles.resolve("y.npy").toString();
        String out = dir.resolve("x.npy").toString();

        String m = SubcommandsTest.expectFailure(1, "per-sample feature shape [6] does not equal the model's input"
                + " shape [1, 12, 12]", args(lenetFiles, "self-influence", "--train",
                embedFiles.resolve("x.npy").toString(), "--train-labels", y, "-o", out));
        assertTrue(m.contains("--train " + embedFiles.resolve("x.npy")), m);

        Path fewer = dir.resolve("y5.npy");
        Npy.write(fewer, new HostArray(new double[] {0, 1, 2, 0, 1}, new long[] {5}, DType.FLOAT64));
        SubcommandsTest.expectFailure(1, "--test-labels " + fewer + ": 5 labels but --test " + x + " has 8 samples",
                args(lenetFiles, "influences", "--train", x, "--train-labels", y, "--test", x, "--test-labels",
                        fewer.toString(), "-o", out));
        SubcommandsTest.expectFailure(1, "--train-labels: missing; the features " + x + " need their labels",
                args(lenetFiles, "self-influence", "--train", x, "-o", out));
        SubcommandsTest.expectFailure(1, "--train: file " + dir.resolve("missing.npy") + " does not exist",
                args(lenetFiles, "self-influence", "--train", dir.resolve("missing.npy").toString(), "--train-labels", y,
                        "-o", out));
        Path text = dir.resolve("x.txt");
        Files.writeString(text, "1,2\n");
        SubcommandsTest.expectFailure(1, "unsupported file type", args(lenetFiles, "self-influence", "--train",
                text.toString(), "--train-labels", y, "-o", out));
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "1,2\n");
        SubcommandsTest.expectFailure(1, "--train-labels: --train " + csv + " is CSV", args(lenetFiles, "self-influence",
                "--train", csv.toString(), "--train-labels", y, "-o", out));
        SubcommandsTest.expectFailure(1, "--curvature: unknown value 'fisher'; use hessian, gauss-newton or empirical-fisher",
                args(lenetFiles, "self-influence", "--train", x, "--train-labels", y, "--curvature", "fisher", "-o", out));
    }

    private static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }
}
