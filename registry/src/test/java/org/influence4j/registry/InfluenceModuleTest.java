package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.ProvisionException;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.DirectSolverFactory;
import org.influence4j.registry.TestSolverFactories.Recording;
import org.influence4j.registry.TestSolverFactories.UnpreparedSolver;
import org.junit.jupiter.api.Test;

class InfluenceModuleTest {

    private static final String WORKING = TestBackendProviders.WORKING;
    private static final String GENERIC = InversionRegistry.GENERIC;

    private static InfluenceSettings settings(InversionMethod method) {
        return new InfluenceSettings("", method, 0.0, 512);
    }

    /** A user module that adds solver factories through the Multibinder. */
    private static AbstractModule solvers(InverseHvpSolverFactory... factories) {
        return new AbstractModule() {
            @Override
            protected void configure() {
                Multibinder<InverseHvpSolverFactory> set =
                        Multibinder.newSetBinder(binder(), InverseHvpSolverFactory.class);
                for (InverseHvpSolverFactory f : factories) {
                    set.addBinding().toInstance(f);
                }
            }
        };
    }

    private static TwiceDifferentiable modelOn(String backendName) {
        Backend backend = new TestBackend(backendName);
        TwiceDifferentiable model = mock(TwiceDifferentiable.class);
        when(model.backend()).thenReturn(backend);
        return model;
    }

    @Test
    void bindsEveryDiscoveredProviderByName() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)));
        Map<String, BackendProvider> providers =
                injector.getInstance(Key.get(new TypeLiteral<Map<String, BackendProvider>>() { }));
        assertEquals(Set.of(WORKING, TestBackendProviders.FAILING, TestBackendProviders.UNAVAILABLE),
                providers.keySet());
        assertInstanceOf(TestBackendProviders.Unavailable.class, providers.get(TestBackendProviders.UNAVAILABLE));
    }

    @Test
    void defaultBackendIsTheBestOneThatLoadsAndIsCreatedLazilyOnce() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)));
        BackendDiscovery discovery = injector.getInstance(BackendDiscovery.class);
        TestBackendProviders.Counting working =
                (TestBackendProviders.Counting) discovery.provider(WORKING).orElseThrow();
        assertEquals(0, working.creates.get(), "no backend may be created before one is injected");
        Backend first = injector.getInstance(Backend.class);
        Backend second = injector.getInstance(Backend.class);
        assertEquals(WORKING, first.name());
        assertSame(first, second);
        assertEquals(1, working.creates.get());
    }

    @Test
    void configuredBackendIsUsedAndAnUnknownOneListsTheDiscovered() {
        Injector named = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG).withBackend(WORKING)));
        assertEquals(WORKING, named.getInstance(Backend.class).name());

        Injector unknown = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG).withBackend("djl-tf")));
        ProvisionException e = assertThrows(ProvisionException.class, () -> unknown.getInstance(Backend.class));
        String m = e.getMessage();
        assertTrue(m.contains("unknown backend 'djl-tf'"), m);
        assertTrue(m.contains(WORKING) && m.contains(TestBackendProviders.FAILING)
                && m.contains(TestBackendProviders.UNAVAILABLE), m);

        Injector failing = Guice.createInjector(new InfluenceModule(
                settings(InversionMethod.CG).withBackend(TestBackendProviders.FAILING)));
        ProvisionException f = assertThrows(ProvisionException.class, () -> failing.getInstance(Backend.class));
        assertTrue(f.getMessage().contains("libfake_engine.so"), f.getMessage());
    }

    @Test
    void aUserModuleCanReplaceTheDefaultBackend() {
        Backend mine = new TestBackend("mine");
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)),
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        OptionalBinder.newOptionalBinder(binder(), Backend.class).setBinding().toInstance(mine);
                    }
                });
        assertSame(mine, injector.getInstance(Backend.class));
    }

    @Test
    void registryHoldsBuiltInAndServiceLoadedFactoriesAndIsASingleton() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)));
        InversionRegistry registry = injector.getInstance(InversionRegistry.class);
        assertSame(registry, injector.getInstance(InversionRegistry.class));
        assertInstanceOf(DirectSolverFactory.class, registry.factory(WORKING, InversionMethod.DIRECT));
        assertInstanceOf(TestSolverFactories.ServiceLoadedEkfac.class, registry.factory(WORKING, InversionMethod.EKFAC));
    }

    @Test
    void aGuiceBoundFactoryOverridesTheBuiltInOneForTheSameKey() {
        Recording customCg = new Recording(GENERIC, InversionMethod.CG);
        Recording customEkfac = new Recording(WORKING, InversionMethod.EKFAC);
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)),
                solvers(customCg, customEkfac));
        InversionRegistry registry = injector.getInstance(InversionRegistry.class);
        assertSame(customCg, registry.factory(GENERIC, InversionMethod.CG));
        assertSame(customCg, registry.factory("djl-pytorch", InversionMethod.CG));
        assertSame(customEkfac, registry.factory(WORKING, InversionMethod.EKFAC));
        assertInstanceOf(DirectSolverFactory.class, registry.factory(GENERIC, InversionMethod.DIRECT),
                "keys that were not overridden keep their built-in factory");
    }

    @Test
    void twoGuiceBoundFactoriesWithOneKeyAreAnError() {
        Injector injector = Guice.createInjector(new InfluenceModule(settings(InversionMethod.CG)),
                solvers(new Recording(GENERIC, InversionMethod.LISSA), new Recording(GENERIC, InversionMethod.LISSA)));
        ProvisionException e = assertThrows(ProvisionException.class,
                () -> injector.getInstance(InversionRegistry.class));
        assertTrue(e.getMessage().contains("(*, lissa)") && e.getMessage().contains("bind only one"), e.getMessage());
    }

    @Test
    void theModelFactoryUsesTheConfiguredMethodAndItsSettings() {
        Recording direct = new Recording(WORKING, InversionMethod.DIRECT);
        Recording cg = new Recording(WORKING, InversionMethod.CG);
        Properties sys = new Properties();
        sys.setProperty(ConfigKeys.INVERSION_METHOD, "cg");
        sys.setProperty(ConfigKeys.HESSIAN_REGULARIZATION, "0.125");
        sys.setProperty(ConfigKeys.BATCH_SIZE, "33");
        sys.setProperty("influence.inversion.cg.rtol", "1e-9");
        sys.setProperty("influence.inversion.direct.unused", "x");
        Injector injector = Guice.createInjector(
                new InfluenceModule(InfluenceConfiguration.load(sys, Map.of(), null, null)), solvers(direct, cg));

        InfluenceModelFactory factory = injector.getInstance(InfluenceModelFactory.class);
        assertSame(factory, injector.getInstance(InfluenceModelFactory.class));
        TwiceDifferentiable model = modelOn(WORKING);
        InfluenceFunctionModel influence = factory.create(model);

        InverseHessianInfluence ihi = assertInstanceOf(InverseHessianInfluence.class, influence);
        assertSame(model, ihi.model());
        assertEquals(new UnpreparedSolver(InversionMethod.CG), ihi.solver());
        assertEquals(new InfluenceOptions(0.125, 33), ihi.options());
        assertEquals(List.of(Map.of("rtol", "1e-9")), cg.calls.stream().map(SolverSettings::asMap).toList());
        assertEquals(List.of(), direct.calls, "the direct solver must not be created when cg is configured");
        assertEquals(false, influence.isFitted());
    }

    @Test
    void theBuiltInSolverReceivesTheConfiguredSettings() {
        TwiceDifferentiable model = modelOn("djl-pytorch");
        InfluenceSettings cg = InfluenceSettings.from(InfluenceConfiguration.load(new Properties(),
                Map.of("INFLUENCE_INVERSION_METHOD", "cg", "INFLUENCE_INVERSION_CG_BOGUS", "1"), null, null));
        InfluenceModelFactory factory = Guice.createInjector(new InfluenceModule(cg))
                .getInstance(InfluenceModelFactory.class);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> factory.create(model));
        assertTrue(e.getMessage().contains("bogus") && e.getMessage().contains("rtol"), e.getMessage());

        InfluenceModelFactory direct = Guice.createInjector(new InfluenceModule(settings(InversionMethod.DIRECT)))
                .getInstance(InfluenceModelFactory.class);
        InverseHessianInfluence ihi = assertInstanceOf(InverseHessianInfluence.class, direct.create(model));
        assertEquals(InversionMethod.DIRECT, ihi.solver().method());
        assertEquals(new InfluenceOptions(0.0, 512), ihi.options());
    }

    @Test
    void anUnregisteredMethodFailsListingTheRegisteredKeys() {
        DefaultInversionRegistry registry = new DefaultInversionRegistry();
        registry.register(new DirectSolverFactory(), false);
        registry.register(new Recording("nd4j", InversionMethod.ARNOLDI), false);
        InfluenceModelFactory factory = new InfluenceModelFactory(registry, settings(InversionMethod.ARNOLDI));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> factory.create(modelOn("djl-pytorch")));
        assertTrue(e.getMessage().contains("'arnoldi'") && e.getMessage().contains("[(*, direct), (nd4j, arnoldi)]"),
                e.getMessage());
    }

    @Test
    void moduleFromConfigurationBindsTheValidatedSettings() {
        Properties sys = new Properties();
        sys.setProperty(ConfigKeys.INVERSION_METHOD, "lissa");
        InfluenceSettings bound = Guice.createInjector(
                new InfluenceModule(InfluenceConfiguration.load(sys, Map.of("INFLUENCE_BATCH_SIZE", "8"), null, null)))
                .getInstance(InfluenceSettings.class);
        assertEquals(new InfluenceSettings("", InversionMethod.LISSA, 0.0, 8), bound);

        Properties bad = new Properties();
        bad.setProperty(ConfigKeys.BATCH_SIZE, "-1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new InfluenceModule(InfluenceConfiguration.load(bad, Map.of(), null, null)));
        assertTrue(e.getMessage().contains(ConfigKeys.BATCH_SIZE), e.getMessage());
    }

    /** EK-FAC is built as its own influence model when no EKFAC solver is registered; a registered one wins. */
    @Test
    void ekfacIsCreatedByMethodName() {
        TwiceDifferentiable model = softmaxModelOn("djl-pytorch");
        DefaultInversionRegistry registry = new DefaultInversionRegistry();
        registry.register(new DirectSolverFactory(), false);
        Map<InversionMethod, SolverSettings> ekfacSettings = Map.of(InversionMethod.EKFAC,
                SolverSettings.of(Map.of("update_diagonal", "true", "curvature", "pydvl")));
        InfluenceModelFactory factory = new InfluenceModelFactory(registry,
                new InfluenceSettings("", InversionMethod.EKFAC, 0.25, 64, ekfacSettings));
        EkfacInfluence ekfac = assertInstanceOf(EkfacInfluence.class, factory.create(model));
        assertSame(model, ekfac.model());
        assertEquals(new EkfacOptions(0.25, true, EkfacCurvature.PYDVL, 64), ekfac.options());
        assertEquals(false, ekfac.isFitted());

        InfluenceModelFactory defaults = new InfluenceModelFactory(registry,
                new InfluenceSettings("", InversionMethod.EKFAC, 0.5, 32));
        assertEquals(new EkfacOptions(0.5, false, EkfacCurvature.FISHER, 32),
                ((EkfacInfluence) defaults.create(model)).options());

        InfluenceModelFactory typo = new InfluenceModelFactory(registry, new InfluenceSettings("",
                InversionMethod.EKFAC, 0.5, 32, Map.of(InversionMethod.EKFAC,
                        SolverSettings.of(Map.of("curvature", "empirical")))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> typo.create(model));
        assertTrue(e.getMessage().contains("fisher, pydvl"), e.getMessage());

        Recording custom = new Recording(InversionRegistry.GENERIC, InversionMethod.EKFAC);
        registry.register(custom, false);
        assertInstanceOf(InverseHessianInfluence.class, defaults.create(model));
        assertEquals(1, custom.calls.size(), "a registered EKFAC solver factory wins");
    }

    private static TwiceDifferentiable softmaxModelOn(String backendName) {
        Backend backend = mock(Backend.class);
        when(backend.name()).thenReturn(backendName);
        when(backend.capabilities()).thenReturn(java.util.EnumSet.of(
                org.influence4j.api.BackendCapability.DENSE_LAYER_FACTORS));
        TwiceDifferentiable model = mock(TwiceDifferentiable.class);
        when(model.backend()).thenReturn(backend);
        when(model.spec()).thenReturn(org.influence4j.api.model.ModelSpec.builder(4).dense(3)
                .loss(org.influence4j.api.model.Loss.SOFTMAX_CROSS_ENTROPY).build());
        return model;
    }
}
