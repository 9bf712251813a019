package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.InversionRegistry.Key;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.calculators.inversion.ConjugateGradientSolverFactory;
import org.influence4j.calculators.inversion.DirectSolverFactory;
import org.influence4j.registry.TestSolverFactories.Recording;
import org.junit.jupiter.api.Test;

class DefaultInversionRegistryTest {

    private static final String GENERIC = InversionRegistry.GENERIC;

    @Test
    void duplicateRegistrationFailsAndKeepsTheFirstFactory() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        Recording first = new Recording(GENERIC, InversionMethod.CG);
        Recording second = new Recording(GENERIC, InversionMethod.CG);
        r.register(first, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.register(second, false));
        assertTrue(e.getMessage().contains("(*, cg)"), e.getMessage());
        assertTrue(e.getMessage().contains("overwrite"), e.getMessage());
        assertSame(first, r.factory(GENERIC, InversionMethod.CG));
    }

    @Test
    void overwriteReplaces() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        Recording first = new Recording(GENERIC, InversionMethod.CG);
        Recording second = new Recording(GENERIC, InversionMethod.CG);
        r.register(first, false);
        r.register(second, true);
        assertSame(second, r.factory(GENERIC, InversionMethod.CG));
        assertEquals(Set.of(new Key(GENERIC, InversionMethod.CG)), r.keys());
    }

    @Test
    void lookupFallsBackToGeneric() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        Recording generic = new Recording(GENERIC, InversionMethod.LISSA);
        r.register(generic, false);
        assertSame(generic, r.factory("djl-pytorch", InversionMethod.LISSA));
        assertSame(generic, r.factory(GENERIC, InversionMethod.LISSA));
        assertSame(generic, r.factory(null, InversionMethod.LISSA));
    }

    @Test
    void modelTypeSpecificFactoryWinsOverGeneric() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        Recording generic = new Recording(GENERIC, InversionMethod.ARNOLDI);
        Recording pytorch = new Recording("djl-pytorch", InversionMethod.ARNOLDI);
        r.register(pytorch, false);
        r.register(generic, false);
        assertSame(pytorch, r.factory("djl-pytorch", InversionMethod.ARNOLDI));
        assertSame(generic, r.factory("nd4j", InversionMethod.ARNOLDI));
        assertSame(generic, r.factory(GENERIC, InversionMethod.ARNOLDI));
    }

    @Test
    void unknownKeyListsTheRegisteredKeys() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        r.register(new Recording(GENERIC, InversionMethod.DIRECT), false);
        r.register(new Recording("nd4j", InversionMethod.CG), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> r.factory("djl-pytorch", InversionMethod.CG));
        String m = e.getMessage();
        assertTrue(m.contains("'cg'") && m.contains("'djl-pytorch'"), m);
        assertTrue(m.contains("[(*, direct), (nd4j, cg)]"), m);
    }

    @Test
    void createPassesTheSettingsToTheFactory() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        Recording f = new Recording(GENERIC, InversionMethod.CG);
        r.register(f, false);
        SolverSettings s = SolverSettings.of(java.util.Map.of("rtol", "1e-9"));
        assertEquals(InversionMethod.CG, r.create("nd4j", InversionMethod.CG, s).method());
        assertEquals(List.of(s), f.calls);
    }

    @Test
    void invalidFactoriesAreRejectedWithTheirClassName() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        IllegalArgumentException blank = assertThrows(IllegalArgumentException.class,
                () -> r.register(new Recording(" ", InversionMethod.CG), false));
        assertTrue(blank.getMessage().contains(Recording.class.getName()), blank.getMessage());
        assertThrows(IllegalArgumentException.class, () -> r.register(new Recording(GENERIC, null), false));
        assertThrows(IllegalArgumentException.class, () -> r.register(null, false));
    }

    @Test
    void concurrentRegistrationOfOneKeyLetsExactlyOneWin() throws Exception {
        int threads = 8;
        for (int round = 0; round < 20; round++) {
            DefaultInversionRegistry r = new DefaultInversionRegistry();
            CountDownLatch start = new CountDownLatch(1);
            AtomicInteger failures = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Recording> factories = new java.util.ArrayList<>();
                List<Future<?>> futures = new java.util.ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Recording f = new Recording(GENERIC, InversionMethod.CG);
                    factories.add(f);
                    futures.add(pool.submit(() -> {
                        start.await();
                        try {
                            r.register(f, false);
                        } catch (IllegalStateException e) {
                            failures.incrementAndGet();
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> fu : futures) {
                    fu.get(10, TimeUnit.SECONDS);
                }
                assertEquals(threads - 1, failures.get());
                assertTrue(factories.contains((Recording) r.factory(GENERIC, InversionMethod.CG)));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void fromServiceLoaderFindsBuiltInAndTestResourceFactories() {
        DefaultInversionRegistry r = DefaultInversionRegistry.fromServiceLoader(getClass().getClassLoader());
        assertTrue(r.keys().containsAll(Set.of(new Key(GENERIC, InversionMethod.DIRECT),
                new Key(GENERIC, InversionMethod.CG),
                new Key(TestBackendProviders.WORKING, InversionMethod.EKFAC))), r.keys().toString());
        assertTrue(r.factory("djl-pytorch", InversionMethod.DIRECT) instanceof DirectSolverFactory);
        assertTrue(r.factory("djl-pytorch", InversionMethod.CG) instanceof ConjugateGradientSolverFactory);
        InverseHvpSolverFactory custom = r.factory(TestBackendProviders.WORKING, InversionMethod.EKFAC);
        assertTrue(custom instanceof TestSolverFactories.ServiceLoadedEkfac, custom.toString());
    }

    @Test
    void keysAreAnUnmodifiableSnapshot() {
        DefaultInversionRegistry r = new DefaultInversionRegistry();
        r.register(new Recording(GENERIC, InversionMethod.CG), false);
        Set<Key> keys = r.keys();
        assertThrows(UnsupportedOperationException.class, () -> keys.add(new Key(GENERIC, InversionMethod.DIRECT)));
        r.register(new Recording(GENERIC, InversionMethod.DIRECT), false);
        assertEquals(1, keys.size());
        assertEquals(2, r.keys().size());
    }
}
