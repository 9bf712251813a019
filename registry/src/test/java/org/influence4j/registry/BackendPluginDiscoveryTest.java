package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.backend.testkit.PluginJars;
import org.influence4j.registry.plugins.BackendPlugin;
import org.influence4j.registry.plugins.BackendPlugins;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backend plugins: a jar compiled here (so that its classes are on no class path of the tests) in a
 * plugin folder is discovered, runs in its own class loader that shares influence4j's api with the
 * application and hides everything else, and is called with that loader as context class loader.
 */
class BackendPluginDiscoveryTest {

    @TempDir
    static Path dir;

    /** A backends folder with the probe plugin, an empty folder and a folder of a jar without a provider. */
    static Path backends;

    /** The probe: checks what its class loader sees, and reports it in its backend's version. */
    private static final String PROVIDER = """
            package probe;

            import java.util.Set;
            import org.influence4j.api.Backend;
            import org.influence4j.api.BackendCapability;
            import org.influence4j.api.BackendProvider;
            import org.influence4j.api.TensorScope;
            import org.influence4j.api.TwiceDifferentiable;
            import org.influence4j.api.model.ModelSpec;

            public final class ProbeProvider implements BackendProvider {
                public String name() { return NAME; }
                public int rank() { return RANK; }
                public boolean isAvailable() { return Helper.contextIsMine(); }
                public Backend create() {
                    String seen = "context=" + (Helper.contextIsMine() ? "plugin" : "other")
                            + " registry=" + Helper.sees("org.influence4j.registry.BackendDiscovery")
                            + " defaults=" + (ProbeProvider.class.getClassLoader()
                                    .getResource("org/influence4j/registry/influence4j-defaults.properties") != null)
                            + " api=" + Helper.sees("org.influence4j.api.Tensor")
                            + " slf4j=" + Helper.sees("org.slf4j.LoggerFactory")
                            + " sql=" + Helper.sees("java.sql.Connection");
                    return new Backend() {
                        public String name() { return NAME; }
                        public String version() { return seen; }
                        public Set<BackendCapability> capabilities() { return Set.of(); }
                        public TensorScope newScope() { throw new UnsupportedOperationException("probe"); }
                        public TwiceDifferentiable createModel(ModelSpec spec, double[] p) {
                            throw new UnsupportedOperationException("probe");
                        }
                    };
                }
                static final String NAME = "%s";
                static final int RANK = %d;
            }
            """;

    private static final String HELPER = """
            package probe;

            final class Helper {
                static boolean contextIsMine() {
                    return Thread.currentThread().getContextClassLoader() == Helper.class.getClassLoader();
                }
                static boolean sees(String name) {
                    try {
                        Class.forName(name, false, Helper.class.getClassLoader());
                        return true;
                    } catch (ClassNotFoundException e) {
                        return false;
                    }
                }
            }
            """;

    @BeforeAll
    static void writePlugins() throws Exception {
        backends = Files.createDirectories(dir.resolve("backends"));
        pluginJar(backends.resolve("probe"), "probe-plugin", 5, true);
        Files.createDirectories(backends.resolve("empty"));
        pluginJar(backends.resolve("no-services"), "unlisted", 5, false);
        // same name and rank as a provider of the test class path: the class path's is kept
        pluginJar(dir.resolve("clash").resolve("clashing"), TestBackendProviders.WORKING, 50, true);
    }

    /** Compiles the probe with {@code name} and {@code rank} into {@code folder}/probe.jar. */
    static void pluginJar(Path folder, String name, int rank, boolean withServiceFile) throws Exception {
        PluginJars.write(folder.resolve("probe.jar"),
                Map.of("probe.ProbeProvider", PROVIDER.formatted(name, rank), "probe.Helper", HELPER),
                withServiceFile ? Map.of(BackendProvider.class, List.of("probe.ProbeProvider")) : Map.of(),
                Backend.class, org.slf4j.Logger.class);
    }

    @Test
    void aPluginRunsInItsOwnClassLoaderThatSharesOnlyTheApi() throws IOException {
        BackendDiscovery discovery = BackendDiscovery.load(null, List.of(backends));
        assertTrue(discovery.names().contains("probe-plugin"), discovery.names().toString());
        assertFalse(discovery.names().contains("unlisted"), "a jar without a service entry adds no backend");
        assertEquals(backends.resolve("probe").toRealPath(), discovery.pluginFolder("probe-plugin").orElseThrow());
        assertTrue(discovery.pluginFolder(TestBackendProviders.WORKING).isEmpty(), "class-path providers have no folder");

        Backend probe = discovery.require("probe-plugin");
        // the api's Backend type is shared: the plugin's object is the application's Backend
        assertInstanceOf(Backend.class, probe);
        ClassLoader pluginLoader = probe.getClass().getClassLoader();
        assertNotSame(getClass().getClassLoader(), pluginLoader);
        assertEquals("context=plugin registry=false defaults=false api=true slf4j=true sql=true", probe.version(),
                "create() runs with the plugin's loader as context loader, which sees the api, SLF4J and the JDK"
                        + " and none of the application's other classes or resources");
        assertThrows(ClassNotFoundException.class, () -> Class.forName("probe.ProbeProvider", false,
                getClass().getClassLoader()), "the plugin's classes are not on the application's class path");
    }

    @Test
    void aFolderIsLoadedOncePerJvm() {
        Backend first = BackendDiscovery.load(null, List.of(backends)).require("probe-plugin");
        Backend second = BackendDiscovery.load(null, List.of(backends)).require("probe-plugin");
        assertSame(first.getClass().getClassLoader(), second.getClass().getClassLoader());
        assertSame(BackendPlugin.open(backends.resolve("probe")), BackendPlugin.open(backends.resolve("probe")));
    }

    @Test
    void theClassPathWinsANameClashAtEqualRank() {
        BackendDiscovery discovery = BackendDiscovery.load(null, List.of(dir.resolve("clash")));
        assertTrue(discovery.pluginFolder(TestBackendProviders.WORKING).isEmpty(), discovery.describeAll());
        assertInstanceOf(TestBackend.class, discovery.require(TestBackendProviders.WORKING));
    }

    @Test
    void theSystemPropertyNamesTheBackendsFolders() {
        String saved = System.getProperty(BackendPlugins.PROPERTY);
        try {
            System.setProperty(BackendPlugins.PROPERTY, dir.resolve("missing") + File.pathSeparator + backends);
            assertEquals(List.of(dir.resolve("missing"), backends), BackendPlugins.configuredFolders());
            BackendDiscovery discovery = BackendDiscovery.load();
            assertTrue(discovery.names().contains("probe-plugin"), "a missing folder is skipped, the next one read");
            System.clearProperty(BackendPlugins.PROPERTY);
            assertFalse(BackendDiscovery.load().names().contains("probe-plugin"));
        } finally {
            if (saved == null) {
                System.clearProperty(BackendPlugins.PROPERTY);
            } else {
                System.setProperty(BackendPlugins.PROPERTY, saved);
            }
        }
    }

    @Test
    void pluginFoldersAreTheSubfoldersWithJars() throws IOException {
        List<String> names = new ArrayList<>();
        for (BackendPlugin p : BackendPlugins.find(List.of(backends, dir.resolve("does-not-exist")))) {
            names.add(p.name());
        }
        assertEquals(List.of("no-services", "probe"), names, "sorted by name; 'empty' holds no jar");
        Path notAFolder = dir.resolve("file.txt");
        try (OutputStream out = Files.newOutputStream(notAFolder)) {
            out.write(1);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackendPlugin.open(notAFolder));
        assertTrue(e.getMessage().startsWith("folder: ") && e.getMessage().contains("folder of jars"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BackendPlugin.open(backends.resolve("empty")));
        assertTrue(e.getMessage().contains("holds no .jar"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BackendPlugins.find(null));
    }
}
