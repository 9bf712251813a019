package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.multibindings.Multibinder;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.ConjugateGradientSolverFactory;
import org.influence4j.calculators.inversion.DirectSolverFactory;
import org.influence4j.calculators.training.NewtonTrainer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.registry.DefaultInversionRegistry;
import org.influence4j.registry.InfluenceModelFactory;
import org.influence4j.registry.InfluenceModule;
import org.influence4j.registry.InfluenceSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole stack through a real Guice injector and {@link java.util.ServiceLoader} discovery. */
class GuiceWiringTest {

    @TempDir
    Path dir;

    private static InfluenceSettings settings(InversionMethod method) {
        return new InfluenceSettings("", method, BreastCancerFixture.LAMBDA, 128);
    }

    @Test
    void serviceLoaderFindsThePyTorchBackendAndBothSolvers() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)));
        Map<String, BackendProvider> providers = injector.getInstance(
                com.google.inject.Key.get(new com.google.inject.TypeLiteral<Map<String, BackendProvider>>() { }));
        assertTrue(providers.containsKey("djl-pytorch"), providers.keySet().toString());
        assertEquals("djl-pytorch", injector.getInstance(Backend.class).name());
        InversionRegistry registry = injector.getInstance(InversionRegistry.class);
        assertTrue(registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC, InversionMethod.DIRECT)));
        assertTrue(registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC, InversionMethod.CG)));
    }

    @Test
    void configuredMethodIsUsedAndGivesTheSameInfluencesAsDirect() {
        BreastCancerFixture data = new BreastCancerFixture(3);
        double[][] results = new double[2][];
        InversionMethod[] methods = {InversionMethod.CG, InversionMethod.DIRECT};
        for (int m = 0; m < 2; m++) {
            Injector injector = Guice.createInjector(new InfluenceModule(settings(methods[m])));
            Backend backend = injector.getInstance(Backend.class);
            try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                    new double[BreastCancerFixture.SPEC.numParameters()]);
                 TensorScope scope = backend.newScope()) {
                new NewtonTrainer().train(model, new InMemoryDataSource(data.train),
                        ObjectiveOptions.ofL2(BreastCancerFixture.LAMBDA));
                try (InfluenceFunctionModel influence = injector.getInstance(InfluenceModelFactory.class).create(model)) {
                    assertEquals(methods[m], ((InverseHessianInfluence) influence).solver().method());
                    influence.fit(new InMemoryDataSource(data.train));
                    results[m] = influence.influences(data.test.slice(0, 4), data.train, InfluenceMode.UP, scope)
                            .toDoubleArray();
                }
            }
        }
        assertArrayEquals(results[1], results[0], 1e-6 * maxAbs(results[1]));
    }

    @Test
    void everyBuiltInMethodIsWiredAndAnUnknownOneListsTheRegisteredOnes() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.ARNOLDI)));
        InversionRegistry registry = injector.getInstance(InversionRegistry.class);
        for (InversionMethod m : new InversionMethod[] {InversionMethod.LISSA, InversionMethod.ARNOLDI,
                InversionMethod.NYSTROEM}) {
            assertTrue(registry.keys().contains(new InversionRegistry.Key(InversionRegistry.GENERIC, m)),
                    registry.keys().toString());
        }
        Backend backend = injector.getInstance(Backend.class);
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                new double[BreastCancerFixture.SPEC.numParameters()])) {
            try (InfluenceFunctionModel influence = injector.getInstance(InfluenceModelFactory.class).create(model)) {
                assertEquals(InversionMethod.ARNOLDI, ((InverseHessianInfluence) influence).solver().method());
            }
            DefaultInversionRegistry only = new DefaultInversionRegistry();
            only.register(new DirectSolverFactory(), false);
            only.register(new ConjugateGradientSolverFactory(), false);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new InfluenceModelFactory(only, settings(InversionMethod.ARNOLDI)).create(model));
            assertTrue(e.getMessage().contains("(*, direct)") && e.getMessage().contains("(*, cg)"), e.getMessage());
        }
    }

    @Test
    void duplicateRegistrationFails() {
        InversionRegistry registry = Guice.createInjector(new InfluenceModule(settings(InversionMethod.DIRECT)))
                .getInstance(InversionRegistry.class);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> registry.register(new DirectSolverFactory(), false));
        assertTrue(e.getMessage().contains("direct"), e.getMessage());
    }

    @Test
    void solverBoundInAUserModuleOverridesTheBuiltIn() {
        CountingSolverFactory mine = new CountingSolverFactory(new ConjugateGradientSolverFactory(),
                InversionRegistry.GENERIC);
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)), new AbstractModule() {
            @Override
            protected void configure() {
                Multibinder.newSetBinder(binder(), InverseHvpSolverFactory.class).addBinding().toInstance(mine);
            }
        });
        assertEquals(mine, injector.getInstance(InversionRegistry.class).factory("djl-pytorch", InversionMethod.CG));
        BreastCancerFixture data = new BreastCancerFixture(1);
        Backend backend = injector.getInstance(Backend.class);
        try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                BreastCancerFixture.SPEC.initialParameters(1));
             InfluenceFunctionModel influence = injector.getInstance(InfluenceModelFactory.class).create(model)) {
            influence.fit(new InMemoryDataSource(data.train));
            assertEquals(1, mine.prepared.get());
        }
    }

    @Test
    void solverShippedInItsOwnJarIsDiscoveredAndUsed() throws IOException {
        Path jar = dir.resolve("my-solver.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/services/" + InverseHvpSolverFactory.class.getName()));
            out.write((TestJarSolverFactory.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        URL[] urls = {jar.toUri().toURL()};
        try (URLClassLoader loader = new URLClassLoader(urls, getClass().getClassLoader())) {
            assertTrue(loader.getResources("META-INF/services/" + InverseHvpSolverFactory.class.getName())
                    .hasMoreElements());
            Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.DIRECT), loader));
            InversionRegistry registry = injector.getInstance(InversionRegistry.class);
            assertTrue(registry.factory("djl-pytorch", InversionMethod.DIRECT) instanceof TestJarSolverFactory,
                    registry.keys().toString());
            Backend backend = injector.getInstance(Backend.class);
            int before = TestJarSolverFactory.USES.get();
            try (TwiceDifferentiable model = backend.createModel(BreastCancerFixture.SPEC,
                    BreastCancerFixture.SPEC.initialParameters(2));
                 InfluenceFunctionModel influence = injector.getInstance(InfluenceModelFactory.class).create(model)) {
                influence.fit(new InMemoryDataSource(new BreastCancerFixture(2).train));
            }
            assertEquals(before + 1, TestJarSolverFactory.USES.get());
        }
    }

    private static double maxAbs(double[] values) {
        double m = 0;
        for (double v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
