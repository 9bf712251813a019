package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackendDiscoveryTest {

    private static final String WORKING = TestBackendProviders.WORKING;
    private static final String FAILING = TestBackendProviders.FAILING;
    private static final String UNAVAILABLE = TestBackendProviders.UNAVAILABLE;

    private static int creates(BackendDiscovery d, String name) {
        return ((TestBackendProviders.Counting) d.provider(name).orElseThrow()).creates.get();
    }

    @Test
    void listsEveryProviderByRankAndFiltersAvailable() {
        BackendDiscovery d = BackendDiscovery.load(getClass().getClassLoader());
        assertEquals(List.of(FAILING, UNAVAILABLE, WORKING), d.names());
        assertEquals(List.of(FAILING, WORKING),
                d.availableProviders().stream().map(BackendProvider::name).toList());
        assertEquals(0, creates(d, FAILING) + creates(d, WORKING), "listing must create no backend");
    }

    @Test
    void bestSkipsFailingAndUnavailableProvidersAndCreatesEachOnce() {
        BackendDiscovery d = BackendDiscovery.load(getClass().getClassLoader());
        Backend first = d.best().orElseThrow();
        Backend second = d.require("");
        assertEquals(WORKING, first.name());
        assertSame(first, second, "a backend is created once and shared");
        assertSame(first, d.require(WORKING));
        assertEquals(1, creates(d, WORKING));
        assertEquals(1, creates(d, FAILING), "a failed create() is not retried");
        assertEquals(0, creates(d, UNAVAILABLE), "an unavailable provider is never created");
        assertTrue(d.failure(FAILING).orElseThrow().contains(TestBackendProviders.FailingNatives.MESSAGE));
        assertTrue(d.backend(FAILING).isEmpty());
        assertTrue(d.backend(UNAVAILABLE).isEmpty());
    }

    @Test
    void aFailingCreateIsLoggedWithExactlyOneWarningLine() throws Exception {
        BackendDiscovery d = BackendDiscovery.load(getClass().getClassLoader());
        String err = captureStderr(() -> {
            d.best();
            d.best();
            d.backend(FAILING);
            return null;
        });
        List<String> lines = Arrays.stream(err.split("\\R")).filter(l -> l.contains(FAILING)).toList();
        assertEquals(1, lines.size(), "expected one log line about " + FAILING + ", got:\n" + err);
        assertTrue(lines.get(0).contains("WARN"), lines.get(0));
        assertTrue(lines.get(0).contains("libfake_engine.so"), lines.get(0));
    }

    @Test
    void requireExplainsUnknownUnavailableAndFailedBackends() {
        BackendDiscovery d = BackendDiscovery.load(getClass().getClassLoader());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> d.require("nd4j"));
        assertTrue(unknown.getMessage().contains("unknown backend 'nd4j'"), unknown.getMessage());
        for (String name : List.of(FAILING, UNAVAILABLE, WORKING)) {
            assertTrue(unknown.getMessage().contains(name), unknown.getMessage());
        }
        IllegalStateException unavailable = assertThrows(IllegalStateException.class, () -> d.require(UNAVAILABLE));
        assertTrue(unavailable.getMessage().contains("not available"), unavailable.getMessage());
        IllegalStateException failed = assertThrows(IllegalStateException.class, () -> d.require(FAILING));
        assertTrue(failed.getMessage().contains("libfake_engine.so"), failed.getMessage());
    }

    @Test
    void noBackendAtAllIsAClearError() {
        BackendDiscovery d = new BackendDiscovery(List.of(new TestBackendProviders.FailingNatives()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.require(null));
        assertTrue(e.getMessage().contains("No influence4j backend could be created"), e.getMessage());
        assertTrue(e.getMessage().contains(FAILING), e.getMessage());
    }

    @Test
    void aProviderWhoseAvailabilityCheckThrowsCountsAsUnavailable() {
        BackendProvider throwing = new TestBackendProviders.Working() {
            @Override
            public String name() {
                return "throwing-check";
            }

            @Override
            public int rank() {
                return -1;
            }

            @Override
            public boolean isAvailable() {
                throw new NoClassDefFoundError("ai/fake/Engine");
            }
        };
        BackendDiscovery d = new BackendDiscovery(List.of(throwing, new TestBackendProviders.Working()));
        assertEquals(List.of(WORKING), d.availableProviders().stream().map(BackendProvider::name).toList());
        assertEquals(WORKING, d.best().orElseThrow().name());
    }

    @Test
    void duplicateNamesKeepTheBetterRankedProvider() {
        TestBackendProviders.Working a = new TestBackendProviders.Working();
        TestBackendProviders.Working b = new TestBackendProviders.Working() {
            @Override
            public int rank() {
                return 7;
            }
        };
        BackendDiscovery d = new BackendDiscovery(List.of(a, b));
        assertEquals(List.of(WORKING), d.names());
        assertSame(b, d.provider(WORKING).orElseThrow());
    }

    @Test
    void brokenServiceEntriesAreSkipped(@TempDir Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(BackendProvider.class.getName()), String.join("\n",
                "org.influence4j.registry.DoesNotExist",
                "org.influence4j.registry.TestBackendProviders$ThrowingConstructor",
                "java.lang.String",
                "") , StandardCharsets.UTF_8);
        Files.writeString(services.resolve("org.influence4j.api.inversion.InverseHvpSolverFactory"),
                "org.influence4j.registry.AlsoMissing\n", StandardCharsets.UTF_8);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                getClass().getClassLoader())) {
            BackendDiscovery d = BackendDiscovery.load(loader);
            assertEquals(List.of(FAILING, UNAVAILABLE, WORKING), d.names());
            assertEquals(WORKING, d.best().orElseThrow().name());

            DefaultInversionRegistry registry = DefaultInversionRegistry.fromServiceLoader(loader);
            assertTrue(registry.keys().contains(new InversionRegistry.Key(WORKING, InversionMethod.EKFAC)),
                    registry.keys().toString());
        }
    }

    static String captureStderr(Callable<?> action) throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
            System.setErr(capture);
            action.call();
        } finally {
            System.setErr(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }
}
