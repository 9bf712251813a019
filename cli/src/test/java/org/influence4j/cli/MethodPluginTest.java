package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.commons.configuration2.CompositeConfiguration;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.io.data.BundledDatasets;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.backend.testkit.PluginJars;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.registry.ConfigKeys;
import org.influence4j.registry.InfluenceConfiguration;
import org.influence4j.registry.InfluenceModelFactory;
import org.influence4j.registry.InfluenceModule;
import org.influence4j.registry.InfluenceSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open method keys: a solver factory in a jar of its own, compiled here against the api only and
 * listed in the jar's {@code META-INF/services}, adds the method {@value #METHOD} (conjugate gradient
 * on the host) with declared settings. Loaded through a {@link URLClassLoader}, it is used by a Guice
 * injector of {@link InfluenceModule} configured with {@code influence.inversion.method=hostcg}, and by
 * the command line's {@code --method hostcg} (the jar as the context class loader, as a jar in the
 * distribution's {@code lib/} is on the class path); both give the Direct method's influences.
 * Without the jar the name is refused.
 */
class MethodPluginTest {

    static final String METHOD = "hostcg";
    private static final double LAMBDA = 0.01;

    @TempDir
    static Path dir;

    static Path jar;
    static Path spec;
    static Path trainCsv;
    static Path testCsv;
    static Path parameters;
    static ModelSpec modelSpec;
    static Batch train;
    static Batch test;

    private static final String FACTORY = """
            package plugin;

            import java.util.List;
            import java.util.concurrent.atomic.AtomicInteger;
            import org.influence4j.api.inversion.InverseHvpSolver;
            import org.influence4j.api.inversion.InverseHvpSolverFactory;
            import org.influence4j.api.inversion.InversionMethod;
            import org.influence4j.api.inversion.Setting;
            import org.influence4j.api.inversion.SolverSettings;

            public final class HostCgSolverFactory implements InverseHvpSolverFactory {
                public static final InversionMethod METHOD = InversionMethod.of("hostcg");
                public static final Setting<Double> RTOL = Setting.ofDouble("rtol", 1e-10,
                        "relative residual tolerance");
                public static final Setting<Integer> MAXITER = Setting.ofInt("maxiter", 0,
                        "iteration limit; 0 = 10 * p").withDefaultDescription("10·p");
                /** Solves run by solvers of this plugin, for the tests. */
                public static final AtomicInteger SOLVES = new AtomicInteger();

                public InversionMethod method() { return METHOD; }
                public List<Setting<?>> settings() { return List.of(RTOL, MAXITER); }
                public InverseHvpSolver create(SolverSettings settings) {
                    SolverSettings s = settings == null ? SolverSettings.empty() : settings;
                    s.requireDeclared("hostcg", settings());
                    return new HostCgSolver(s.get(RTOL), s.get(MAXITER));
                }
            }
            """;

    /** Plain conjugate gradient in double precision on the host, one operator pass per iteration. */
    private static final String SOLVER = """
            package plugin;

            import java.util.List;
            import java.util.Map;
            import org.influence4j.api.Tensor;
            import org.influence4j.api.TensorScope;
            import org.influence4j.api.inversion.HessianOperator;
            import org.influence4j.api.inversion.InverseHessian;
            import org.influence4j.api.inversion.InverseHvpResult;
            import org.influence4j.api.inversion.InverseHvpSolver;
            import org.influence4j.api.inversion.InversionException;
            import org.influence4j.api.inversion.InversionMethod;
            import org.influence4j.api.inversion.SolverInfo;

            final class HostCgSolver implements InverseHvpSolver {
                private final double rtol;
                private final int maxiter;

                HostCgSolver(double rtol, int maxiter) {
                    this.rtol = rtol;
                    this.maxiter = maxiter;
                }

                public InversionMethod method() { return HostCgSolverFactory.METHOD; }

                public InverseHessian prepare(HessianOperator op) {
                    return new InverseHessian() {
                        public InverseHvpResult solve(Tensor rhs, TensorScope scope) {
                            HostCgSolverFactory.SOLVES.incrementAndGet();
                            int p = op.dimension();
                            long[] shape = rhs.shape();
                            int k = shape.length == 1 ? 1 : (int) shape[0];
                            double[] b = rhs.toDoubleArray();
                            double[] x = new double[k * p];
                            double[] r = b.clone();
                            double[] d = b.clone();
                            double[] rr = new double[k];
                            double[] bNorm = new double[k];
                            boolean[] done = new boolean[k];
                            int open = k;
                            for (int j = 0; j < k; j++) {
                                rr[j] = dot(r, r, j, p);
                                bNorm[j] = Math.sqrt(rr[j]);
                                if (bNorm[j] == 0) {
                                    done[j] = true;
                                    open--;
                                }
                            }
                            int limit = maxiter > 0 ? maxiter : 10 * p;
                            int iterations = 0;
                            while (open > 0 && iterations < limit) {
                                iterations++;
                                double[] ad;
                                try (Tensor dt = scope.fromArray(d, op.dtype(), k, p);
                                     Tensor adt = op.apply(dt, scope)) {
                                    ad = adt.toDoubleArray();
                                }
                                for (int j = 0; j < k; j++) {
                                    if (done[j]) {
                                        continue;
                                    }
                                    double curvature = dot(d, ad, j, p);
                                    if (!(curvature > 0)) {
                                        throw new InversionException(InversionException.Reason.NEGATIVE_CURVATURE,
                                                "hostcg: curvature " + curvature + " <= 0; raise the hessian regularization");
                                    }
                                    double alpha = rr[j] / curvature;
                                    for (int i = j * p; i < (j + 1) * p; i++) {
                                        x[i] += alpha * d[i];
                                        r[i] -= alpha * ad[i];
                                    }
                                    double next = dot(r, r, j, p);
                                    double beta = next / rr[j];
                                    rr[j] = next;
                                    for (int i = j * p; i < (j + 1) * p; i++) {
                                        d[i] = r[i] + beta * d[i];
                                    }
                                    if (Math.sqrt(next) <= rtol * bNorm[j]) {
                                        done[j] = true;
                                        open--;
                                        java.util.Arrays.fill(d, j * p, (j + 1) * p, 0.0);
                                    }
                                }
                            }
                            double[] residuals = new double[k];
                            for (int j = 0; j < k; j++) {
                                residuals[j] = bNorm[j] == 0 ? 0 : Math.sqrt(rr[j]) / bNorm[j];
                            }
                            return new InverseHvpResult(scope.fromArray(x, rhs.dtype(), shape),
                                    new SolverInfo(method(), iterations, residuals, open == 0, List.of(),
                                            Map.of("passes", iterations)));
                        }

                        public void close() {
                        }
                    };
                }

                private static double dot(double[] a, double[] b, int row, int p) {
                    double s = 0;
                    for (int i = row * p; i < (row + 1) * p; i++) {
                        s += a[i] * b[i];
                    }
                    return s;
                }
            }
            """;

    @BeforeAll
    static void writePluginAndTrain() throws Exception {
        jar = pluginJar();
        Batch data = BundledDatasets.standardize(BundledDatasets.breastCancer());
        train = data.slice(0, 300);
        test = data.slice(300, 306);
        modelSpec = ModelSpec.builder(30).dense(1).loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        spec = dir.resolve("spec.json");
        Files.writeString(spec, modelSpec.toJson());
        trainCsv = SubcommandsTest.writeCsv(dir.resolve("train.csv"), train);
        testCsv = SubcommandsTest.writeCsv(dir.resolve("test.csv"), test);
        parameters = dir.resolve("params.safetensors");
        Influence4jCommandTest.Run run = Influence4jCommandTest.run("train", "--spec", spec.toString(), "--train",
                trainCsv.toString(), "--optimizer", "newton", "--l2", Double.toString(LAMBDA), "-o",
                parameters.toString());
        assertEquals(0, run.exitCode(), run.err());
    }

    /** Compiles the plugin against the api alone into a jar with its service entry. */
    private static Path pluginJar() throws IOException {
        return PluginJars.write(dir.resolve("hostcg-plugin.jar"),
                Map.of("plugin.HostCgSolverFactory", FACTORY, "plugin.HostCgSolver", SOLVER),
                Map.of(InverseHvpSolverFactory.class, List.of("plugin.HostCgSolverFactory")),
                InverseHvpSolverFactory.class);
    }

    private static URLClassLoader pluginLoader() throws IOException {
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, MethodPluginTest.class.getClassLoader());
    }

    /** Runs {@code call} with {@code loader} as the thread's context class loader. */
    private static <T> T withContextLoader(ClassLoader loader, Callable<T> call) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader saved = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return call.call();
        } finally {
            thread.setContextClassLoader(saved);
        }
    }

    private static int solves(ClassLoader loader) throws ReflectiveOperationException {
        Object counter = loader.loadClass("plugin.HostCgSolverFactory").getField("SOLVES").get(null);
        return ((java.util.concurrent.atomic.AtomicInteger) counter).get();
    }

    /** @return Direct influences (λ = {@value #LAMBDA}) of the trained model, {@code [m, n]} */
    private static double[] directInfluences(Backend backend) throws IOException {
        try (TwiceDifferentiable model = backend.createModel(modelSpec, ParameterFiles.read(parameters, modelSpec));
             TensorScope scope = backend.newScope();
             DirectInfluence influence = new DirectInfluence(model, new InfluenceOptions(LAMBDA, 512))) {
            influence.fit(new InMemoryDataSource(train));
            return influence.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
        }
    }

    private static void assertClose(double[] expected, double[] actual, double relative) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], relative * scale, "entry " + i);
        }
    }

    @Test
    void guiceBuildsAnInfluenceModelWithThePluginsMethod() throws Exception {
        Properties system = new Properties();
        system.setProperty(ConfigKeys.INVERSION_METHOD, METHOD);
        system.setProperty(ConfigKeys.INVERSION_PREFIX + METHOD + ".rtol", "1e-13");
        system.setProperty(ConfigKeys.INVERSION_PREFIX + METHOD + ".maxiter", "1000");
        system.setProperty(ConfigKeys.HESSIAN_REGULARIZATION, Double.toString(LAMBDA));
        system.setProperty(ConfigKeys.BACKEND, "djl-pytorch");
        CompositeConfiguration config = InfluenceConfiguration.load(system, Map.of(), null, null);
        InfluenceSettings settings = InfluenceSettings.from(config);
        assertEquals(InversionMethod.of(METHOD), settings.method());
        assertEquals("1e-13", settings.methodSettings().get("rtol", null));

        try (URLClassLoader loader = pluginLoader()) {
            Injector injector = Guice.createInjector(new InfluenceModule(settings, loader));
            InversionRegistry registry = injector.getInstance(InversionRegistry.class);
            assertTrue(registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC,
                    InversionMethod.of(METHOD))), registry.keys().toString());
            InfluenceModelFactory factory = injector.getInstance(InfluenceModelFactory.class);
            assertEquals(List.of("rtol", "maxiter"), factory.declaredSettings().get(InversionMethod.of(METHOD))
                    .stream().map(s -> s.key()).toList(), "the plugin's declared settings");
            Backend backend = injector.getInstance(Backend.class);
            int before = solves(loader);
            double[] influences;
            try (TwiceDifferentiable model = backend.createModel(modelSpec, ParameterFiles.read(parameters, modelSpec));
                 TensorScope scope = backend.newScope();
                 InfluenceFunctionModel influence = factory.create(model)) {
                InverseHessianInfluence inverse = assertInstanceOf(InverseHessianInfluence.class, influence);
                assertEquals(InversionMethod.of(METHOD), inverse.solver().method());
                assertSame(loader, inverse.solver().getClass().getClassLoader(), "the solver comes from the jar");
                influence.fit(new InMemoryDataSource(train));
                influences = influence.influences(test, train, InfluenceMode.UP, scope).toDoubleArray();
            }
            assertTrue(solves(loader) > before, "the plugin's solver ran");
            assertClose(directInfluences(backend), influences, 1e-8);

            // the same configuration through the context class loader, as for a jar on the class path
            Injector viaContext = withContextLoader(loader, () -> Guice.createInjector(new InfluenceModule(config)));
            assertEquals(InversionMethod.of(METHOD), viaContext.getInstance(InversionRegistry.class)
                    .factory("djl-pytorch", InversionMethod.of(METHOD)).method());
        }
        // without the jar the method is unknown: the factory names the key and the registered methods
        InfluenceModelFactory without = Guice.createInjector(new InfluenceModule(settings))
                .getInstance(InfluenceModelFactory.class);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> without.requireAvailable("djl-pytorch"));
        assertTrue(e.getMessage().contains("'" + METHOD + "'") && e.getMessage().contains(ConfigKeys.INVERSION_METHOD)
                && e.getMessage().contains("(*, cg)"), e.getMessage());
    }

    @Test
    void theCommandLineAcceptsThePluginsMethod() throws Exception {
        Path viaPlugin = dir.resolve("hostcg.npy");
        Path viaDirect = dir.resolve("direct.npy");
        String[] common = {"influences", "--spec", spec.toString(), "--parameters", parameters.toString(),
                "--train", trainCsv.toString(), "--test", testCsv.toString(), "--lambda", Double.toString(LAMBDA),
                "--backend", "djl-pytorch"};
        try (URLClassLoader loader = pluginLoader()) {
            int before = solves(loader);
            Influence4jCommandTest.Run run = withContextLoader(loader, () -> Influence4jCommandTest.run(
                    concat(common, "--method", METHOD, "-Dinfluence.inversion.hostcg.rtol=1e-13",
                            "-Dinfluence.inversion.hostcg.maxiter=1000", "-o", viaPlugin.toString())));
            assertEquals(0, run.exitCode(), run.out() + run.err());
            assertTrue(solves(loader) > before, "the plugin's solver ran");
            Influence4jCommandTest.Run typo = withContextLoader(loader, () -> Influence4jCommandTest.run(
                    concat(common, "--method", METHOD, "-Dinfluence.inversion.hostcg.rtoll=1", "-o", "x.npy")));
            assertEquals(1, typo.exitCode(), typo.err());
            assertTrue(typo.err().contains("rtoll") && typo.err().contains("[maxiter, rtol]"), typo.err());
        }
        Influence4jCommandTest.Run direct = Influence4jCommandTest.run(concat(common, "--method", "direct", "-o",
                viaDirect.toString()));
        assertEquals(0, direct.exitCode(), direct.err());
        assertClose(SubcommandsTest.NpyFile.read(viaDirect).values, SubcommandsTest.NpyFile.read(viaPlugin).values,
                1e-8);

        String message = SubcommandsTest.expectFailure(1, "'" + METHOD + "'",
                concat(common, "--method", METHOD, "-o", "x.npy"));
        assertTrue(message.contains(ConfigKeys.INVERSION_METHOD), "without the jar: " + message);
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
