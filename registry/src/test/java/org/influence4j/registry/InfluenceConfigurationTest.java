package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.commons.configuration2.CompositeConfiguration;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.SolverSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfluenceConfigurationTest {

    @TempDir
    Path dir;

    private static Properties props(String... keyValues) {
        Properties p = new Properties();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    private Path file(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    private static InfluenceSettings settings(Properties sys, Map<String, String> env, Path file) {
        return InfluenceSettings.from(InfluenceConfiguration.load(sys, env, file, null));
    }

    @Test
    void defaultsAloneGiveTheDocumentedValues() {
        InfluenceSettings s = settings(new Properties(), Map.of(), null);
        assertEquals(new InfluenceSettings("", InversionMethod.DIRECT, 0.0, 512), s);
        assertEquals(SolverSettings.empty().asMap(), s.methodSettings().asMap());
    }

    @Test
    void userFileBeatsDefaults() throws IOException {
        Path f = file("influence4j.properties",
                "influence.inversion.method=cg",
                "influence.hessian.regularization=0.1");
        InfluenceSettings s = settings(new Properties(), Map.of(), f);
        assertEquals(new InfluenceSettings("", InversionMethod.CG, 0.1, 512), s);
    }

    @Test
    void environmentBeatsUserFile() throws IOException {
        Path f = file("influence4j.properties",
                "influence.inversion.method=cg",
                "influence.hessian.regularization=0.1");
        InfluenceSettings s = settings(new Properties(),
                Map.of("INFLUENCE_INVERSION_METHOD", "lissa", "PATH", "/usr/bin"), f);
        assertEquals(new InfluenceSettings("", InversionMethod.LISSA, 0.1, 512), s);
    }

    @Test
    void systemPropertyBeatsEnvironment() throws IOException {
        Path f = file("influence4j.properties", "influence.inversion.method=cg");
        InfluenceSettings s = settings(props("influence.inversion.method", "arnoldi"),
                Map.of("INFLUENCE_INVERSION_METHOD", "lissa"), f);
        assertEquals(InversionMethod.ARNOLDI, s.method());
    }

    @Test
    void eachKeyIsAnsweredByItsHighestLayer() throws IOException {
        Path f = file("influence4j.properties",
                "influence.backend=from-file",
                "influence.inversion.method=cg",
                "influence.hessian.regularization=0.25",
                "influence.batch.size=64",
                "influence.inversion.cg.rtol=1e-5",
                "influence.inversion.cg.atol=1e-9");
        Map<String, String> env = Map.of(
                "INFLUENCE_BACKEND", "from-env",
                "INFLUENCE_INVERSION_METHOD", "lissa",
                "INFLUENCE_HESSIAN_REGULARIZATION", "0.5",
                "INFLUENCE_INVERSION_CG_RTOL", "1e-6",
                "INFLUENCE_INVERSION_CG_MAXITER", "40");
        Properties sys = props("influence.backend", "from-sys",
                "influence.inversion.cg.rtol", "1e-7",
                "java.home", "/ignored");
        CompositeConfiguration c = InfluenceConfiguration.load(sys, env, f, null);
        InfluenceSettings s = InfluenceSettings.from(c);
        assertEquals("from-sys", s.backend());                  // system property
        assertEquals(InversionMethod.LISSA, s.method());         // environment
        assertEquals(0.5, s.hessianRegularization());            // environment
        assertEquals(64, s.batchSize());                         // user file
        assertEquals(Map.of("rtol", "1e-7", "maxiter", "40", "atol", "1e-9"),
                s.solverSettings(InversionMethod.CG).asMap());  // one key from each layer
        assertEquals(Map.of(), s.solverSettings(InversionMethod.DIRECT).asMap());
        assertNull(c.getString("java.home"), "only influence.* system properties are taken");
    }

    @Test
    void thePublicLoaderReadsRealSystemProperties() throws IOException {
        Path f = file("mine.properties", "influence.batch.size=64");
        String key = ConfigKeys.BATCH_SIZE;
        String previous = System.getProperty(key);
        System.setProperty(key, "7");
        try {
            InfluenceSettings s = InfluenceSettings.from(
                    InfluenceConfiguration.load(Map.of("INFLUENCE_BATCH_SIZE", "9"), f));
            assertEquals(7, s.batchSize());
        } finally {
            if (previous == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, previous);
            }
        }
        InfluenceSettings s = InfluenceSettings.from(
                InfluenceConfiguration.load(Map.of("INFLUENCE_BATCH_SIZE", "9"), f));
        assertEquals(9, s.batchSize());
        assertEquals(64, InfluenceSettings.from(InfluenceConfiguration.load(Map.of(), f)).batchSize());
    }

    @Test
    void yamlFilesAcceptNestedAndDottedKeys() throws IOException {
        Path yaml = file("influence4j.yaml",
                "influence:",
                "  backend: nd4j",
                "  inversion:",
                "    method: cg",
                "    cg:",
                "      rtol: 1.0e-6",
                "      maxiter: 25",
                "influence.hessian.regularization: 0.01",
                "influence.inversion.arnoldi.rank_estimate: 10");
        InfluenceSettings s = settings(new Properties(), Map.of(), yaml);
        assertEquals("nd4j", s.backend());
        assertEquals(InversionMethod.CG, s.method());
        assertEquals(0.01, s.hessianRegularization());
        assertEquals(512, s.batchSize());
        assertEquals(25, s.solverSettings(InversionMethod.CG).getInt("maxiter", -1));
        assertEquals(1.0e-6, s.solverSettings(InversionMethod.CG).getDouble("rtol", -1));
        assertEquals(Map.of("rank_estimate", "10"), s.solverSettings(InversionMethod.ARNOLDI).asMap());

        Path yml = file("other.yml", "influence:", "  batch:", "    size: 32");
        assertEquals(32, settings(new Properties(), Map.of(), yml).batchSize());
    }

    @Test
    void userFileLocation() throws IOException {
        Path explicit = file("explicit.properties", "influence.batch.size=11");
        Path byProperty = file("by-property.properties", "influence.batch.size=22");
        Path byEnv = file("by-env.yaml", "influence.batch.size: 33");
        Properties sys = props(ConfigKeys.CONFIG_FILE_PROPERTY, byProperty.toString());
        Map<String, String> env = Map.of(ConfigKeys.CONFIG_FILE_ENV, byEnv.toString());
        assertEquals(11, InfluenceSettings.from(InfluenceConfiguration.load(sys, env, explicit, null)).batchSize());
        assertEquals(22, InfluenceSettings.from(InfluenceConfiguration.load(sys, env, null, null)).batchSize());
        assertEquals(33, InfluenceSettings.from(
                InfluenceConfiguration.load(new Properties(), env, null, null)).batchSize());

        Path work = Files.createDirectories(dir.resolve("work"));
        assertEquals(512, InfluenceSettings.from(
                InfluenceConfiguration.load(new Properties(), Map.of(), null, work)).batchSize());
        Files.writeString(work.resolve("influence4j.properties"), "influence.batch.size=44\n");
        assertEquals(44, InfluenceSettings.from(
                InfluenceConfiguration.load(new Properties(), Map.of(), null, work)).batchSize());
    }

    @Test
    void missingOrUnreadableUserFilesAreErrorsNamingTheFile() throws IOException {
        Path missing = dir.resolve("nope.properties");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InfluenceConfiguration.load(props(ConfigKeys.CONFIG_FILE_PROPERTY, missing.toString()),
                        Map.of(), null, null));
        assertTrue(e.getMessage().contains("nope.properties") && e.getMessage().contains("-Dinfluence4j.config"),
                e.getMessage());
        Path json = file("conf.json", "{}");
        IllegalArgumentException ext = assertThrows(IllegalArgumentException.class,
                () -> InfluenceConfiguration.load(new Properties(), Map.of(), json, null));
        assertTrue(ext.getMessage().contains("conf.json") && ext.getMessage().contains(".yaml"), ext.getMessage());
        Path badYaml = file("bad.yaml", "influence: [unclosed");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> InfluenceConfiguration.load(new Properties(), Map.of(), badYaml, null));
        assertTrue(bad.getMessage().contains("bad.yaml"), bad.getMessage());
    }

    @Test
    void commaSeparatedValuesAreLists() throws IOException {
        Path f = file("influence4j.properties", "influence.inversion.cg.x0=1, 2,3");
        CompositeConfiguration c = InfluenceConfiguration.load(new Properties(), Map.of(), f, null);
        assertEquals(List.of("1", "2", "3"), c.getList(String.class, "influence.inversion.cg.x0"));
        assertEquals(Map.of("x0", "1,2,3"), InfluenceSettings.solverSettings(c, InversionMethod.CG).asMap());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settings(props(ConfigKeys.INVERSION_METHOD, "cg,direct"), Map.of(), null));
        assertTrue(e.getMessage().contains(ConfigKeys.INVERSION_METHOD), e.getMessage());
    }

    @Test
    void invalidValuesNameTheirKey() {
        assertMessage(ConfigKeys.INVERSION_METHOD, "nystroem",
                () -> settings(props(ConfigKeys.INVERSION_METHOD, "new ton!"), Map.of(), null));
        // a well-formed name may be a plugin's method: the factory, which knows the registry, refuses it
        InfluenceSettings newton = settings(props(ConfigKeys.INVERSION_METHOD, "newton"), Map.of(), null);
        assertEquals(InversionMethod.of("newton"), newton.method());
        assertMessage(ConfigKeys.INVERSION_METHOD, "nystroem", () -> new InfluenceModelFactory(
                DefaultInversionRegistry.fromServiceLoader(null), newton).requireAvailable(InversionRegistry.GENERIC));
        assertMessage(ConfigKeys.INVERSION_METHOD, "empty",
                () -> settings(props(ConfigKeys.INVERSION_METHOD, " "), Map.of(), null));
        assertMessage(ConfigKeys.HESSIAN_REGULARIZATION, "not a number",
                () -> settings(new Properties(), Map.of("INFLUENCE_HESSIAN_REGULARIZATION", "small"), null));
        assertMessage(ConfigKeys.HESSIAN_REGULARIZATION, ">= 0",
                () -> settings(props(ConfigKeys.HESSIAN_REGULARIZATION, "-0.5"), Map.of(), null));
        assertMessage(ConfigKeys.HESSIAN_REGULARIZATION, ">= 0",
                () -> settings(props(ConfigKeys.HESSIAN_REGULARIZATION, "NaN"), Map.of(), null));
        assertMessage(ConfigKeys.BATCH_SIZE, "not an integer",
                () -> settings(props(ConfigKeys.BATCH_SIZE, "1.5"), Map.of(), null));
        assertMessage(ConfigKeys.BATCH_SIZE, ">= 1",
                () -> settings(props(ConfigKeys.BATCH_SIZE, "0"), Map.of(), null));
        assertMessage(ConfigKeys.KEPT_MEGABYTES, "not an integer",
                () -> settings(props(ConfigKeys.KEPT_MEGABYTES, "lots"), Map.of(), null));
        assertMessage(ConfigKeys.KEPT_MEGABYTES, ">= 0",
                () -> settings(props(ConfigKeys.KEPT_MEGABYTES, "-1"), Map.of(), null));
    }

    /** The kept forward passes' memory reaches the influence options, in bytes; 256 MiB by default. */
    @Test
    void keptMegabytesReachTheInfluenceOptions() {
        assertEquals(256, settings(new Properties(), Map.of(), null).keptMegabytes());
        InfluenceSettings s = settings(new Properties(), Map.of("INFLUENCE_CURVATURE_KEPT_MEGABYTES", "3"), null);
        assertEquals(3L << 20, s.keptStateBytes());
        assertEquals(3, s.withCurvature(Curvature.GAUSS_NEWTON).keptMegabytes());
    }

    @Test
    void methodAliasesAreAccepted() {
        assertEquals(InversionMethod.NYSTROEM,
                settings(props(ConfigKeys.INVERSION_METHOD, "Nystrom"), Map.of(), null).method());
        assertEquals(InversionMethod.CG,
                settings(props(ConfigKeys.INVERSION_METHOD, "conjugate-gradient"), Map.of(), null).method());
    }

    @Test
    void aMethodThatIsNotBuiltInGetsItsSettingsFromEveryLayer() {
        InfluenceSettings s = settings(props(ConfigKeys.INVERSION_METHOD, "hostcg", "influence.inversion.hostcg.rtol",
                "1e-9"), Map.of("INFLUENCE_INVERSION_HOSTCG_MAX_ITER", "7"), null);
        InversionMethod hostcg = InversionMethod.of("hostcg");
        assertEquals(hostcg, s.method());
        assertEquals(Map.of("rtol", "1e-9", "max_iter", "7"), s.methodSettings().asMap());
        assertEquals("influence.inversion.hostcg.max_iter",
                ConfigKeys.keyForEnvironmentName("INFLUENCE_INVERSION_HOSTCG_MAX_ITER"));
        assertMessage("influence.inversion.Host-CG.rtol", "influence.inversion.<method>.<setting>",
                () -> settings(props("influence.inversion.Host-CG.rtol", "1"), Map.of(), null));
        assertMessage("influence.inversion.method.rtol", "not a method name",
                () -> settings(props("influence.inversion.method.rtol", "1"), Map.of(), null));
    }

    @Test
    void environmentNamesMapToKeys() {
        assertEquals("INFLUENCE_INVERSION_METHOD", ConfigKeys.environmentName(ConfigKeys.INVERSION_METHOD));
        assertEquals("INFLUENCE_HESSIAN_REGULARIZATION", ConfigKeys.environmentName(ConfigKeys.HESSIAN_REGULARIZATION));
        assertEquals("influence.inversion.method", ConfigKeys.keyForEnvironmentName("INFLUENCE_INVERSION_METHOD"));
        assertEquals("influence.batch.size", ConfigKeys.keyForEnvironmentName("INFLUENCE_BATCH_SIZE"));
        assertEquals("influence.inversion.cg.rtol", ConfigKeys.keyForEnvironmentName("INFLUENCE_INVERSION_CG_RTOL"));
        assertEquals("influence.inversion.arnoldi.rank_estimate",
                ConfigKeys.keyForEnvironmentName("INFLUENCE_INVERSION_ARNOLDI_RANK_ESTIMATE"));
        assertNull(ConfigKeys.keyForEnvironmentName("INFLUENCE4J_CONFIG"));
        assertNull(ConfigKeys.keyForEnvironmentName("influence_backend"));
        assertNull(ConfigKeys.keyForEnvironmentName("HOME"));
        assertEquals("influence.inversion.cg.", ConfigKeys.solverPrefix(InversionMethod.CG));
    }

    @Test
    void everyDefaultIsDocumentedByAComment() throws IOException {
        List<String> lines;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(ConfigKeys.DEFAULTS_RESOURCE)) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        for (String key : List.of(ConfigKeys.BACKEND, ConfigKeys.INVERSION_METHOD,
                ConfigKeys.HESSIAN_REGULARIZATION, ConfigKeys.BATCH_SIZE)) {
            int at = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(key + "=")) {
                    at = i;
                }
            }
            assertTrue(at > 0, key + " is missing from the defaults");
            assertTrue(lines.get(at - 1).startsWith("#"), key + " has no comment above it");
        }
    }

    @Test
    void settingsRecordValidatesAndCopies() {
        Map<InversionMethod, SolverSettings> m = new java.util.HashMap<>();
        m.put(InversionMethod.CG, SolverSettings.of(Map.of("rtol", "1e-3")));
        InfluenceSettings s = new InfluenceSettings(null, InversionMethod.CG, 0.0, 1, m);
        m.clear();
        assertEquals("", s.backend());
        assertEquals("1e-3", s.methodSettings().get("rtol", null));
        assertThrows(UnsupportedOperationException.class, () -> s.solverSettings().clear());
        assertMessage(ConfigKeys.INVERSION_METHOD, "cg", () -> new InfluenceSettings("", null, 0.0, 1));
        assertMessage(ConfigKeys.BATCH_SIZE, ">= 1", () -> new InfluenceSettings("", InversionMethod.CG, 0.0, -3));
        assertMessage(ConfigKeys.HESSIAN_REGULARIZATION, "finite",
                () -> new InfluenceSettings("", InversionMethod.CG, Double.POSITIVE_INFINITY, 1));
    }

    private static void assertMessage(String key, String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(key) && e.getMessage().contains(part), e.getMessage());
    }
}
