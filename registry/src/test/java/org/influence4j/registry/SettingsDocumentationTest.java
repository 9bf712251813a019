package org.influence4j.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.InversionRegistry;
import org.influence4j.api.inversion.Setting;
import org.influence4j.api.inversion.SolverSettings;
import org.influence4j.calculators.influence.EkfacOptions;
import org.junit.jupiter.api.Test;

/**
 * Every default is written once, in a {@link Setting} declaration: the core keys in
 * {@link ConfigKeys#SETTINGS}, each method's in its factory ({@link InfluenceModelFactory#declaredSettings()}).
 * The README's configuration table and the class-path defaults file must agree with them: a row or a
 * line whose default differs, a declared setting they leave out, or a key they document that nothing
 * declares fails here.
 */
class SettingsDocumentationTest {

    private static final Path README = Path.of("..").toAbsolutePath().normalize().resolve("README.md");
    private static final Pattern CODE = Pattern.compile("`([^`]*)`");
    /** A commented example of the defaults file: {@code # influence.inversion.<method>.<setting>=<value>}. */
    private static final Pattern COMMENTED = Pattern.compile("^#\\s*(influence\\.inversion\\.[a-z0-9]+\\.[a-z0-9_]+)"
            + "=(\\S*)");

    private static final InfluenceModelFactory FACTORY = new InfluenceModelFactory(
            DefaultInversionRegistry.fromServiceLoader(null), new InfluenceSettings("", InversionMethod.DIRECT, 0, 1));

    /** @return every declared setting by full configuration key: core keys, then each method's */
    static Map<String, Setting<?>> declared() {
        Map<String, Setting<?>> all = new LinkedHashMap<>();
        for (Setting<?> s : ConfigKeys.SETTINGS) {
            all.put(s.key(), s);
        }
        for (Map.Entry<InversionMethod, List<Setting<?>>> e : FACTORY.declaredSettings().entrySet()) {
            for (Setting<?> s : e.getValue()) {
                String key = ConfigKeys.solverPrefix(e.getKey()) + s.key();
                assertNull(all.put(key, s), "declared twice: " + key);
            }
        }
        return all;
    }

    /** Whether the documented default {@code shown} states {@code setting}'s declared default. */
    static boolean agrees(Setting<?> setting, String shown) {
        String text = shown.trim();
        if (text.isEmpty() || "empty".equals(text)) {
            return setting.defaultText().isEmpty();
        }
        if (text.equals(setting.defaultDescription()) || text.equals(setting.defaultText())) {
            return true;
        }
        try {
            return setting.parse(text).equals(setting.defaultValue());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    void everyBuiltInMethodDeclaresItsSettings() {
        Map<InversionMethod, List<Setting<?>>> methods = FACTORY.declaredSettings();
        for (InversionMethod m : InversionMethod.values()) {
            assertTrue(methods.containsKey(m), m.configName() + " declares no settings list: " + methods.keySet());
        }
        assertEquals(List.of("allow_indefinite", "exact_residuals"),
                methods.get(InversionMethod.DIRECT).stream().map(Setting::key).toList());
        assertEquals(EkfacOptions.SETTINGS, methods.get(InversionMethod.EKFAC));
        assertEquals(List.of("rtol", "atol", "maxiter", "block", "preconditioner", "preconditioner_rank",
                "hutchinson_probes", "seed", "precompute", "allow_unconverged"),
                methods.get(InversionMethod.CG).stream().map(Setting::key).toList());
    }

    @Test
    void everyFactoryAcceptsExactlyWhatItDeclares() {
        InversionRegistry registry = DefaultInversionRegistry.fromServiceLoader(null);
        for (InversionRegistry.Key key : registry.keys()) {
            if (!InversionRegistry.GENERIC.equals(key.modelType())) {
                continue;
            }
            InverseHvpSolverFactory factory = registry.factory(key.modelType(), key.method());
            Map<String, String> atDefaults = new LinkedHashMap<>();
            for (Setting<?> s : factory.settings()) {
                atDefaults.put(s.key(), s.defaultText());
                assertEquals(s.defaultValue(), s.parse(s.defaultText()), "round trip of " + s);
            }
            assertNotNull(factory.create(SolverSettings.of(atDefaults)), key.toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> factory.create(SolverSettings.of(Map.of("undeclared_key", "1"))), key.toString());
            assertTrue(e.getMessage().contains("undeclared_key"), e.getMessage());
        }
    }

    @Test
    void theReadmeTableAgreesWithTheDeclarations() throws IOException {
        Map<String, String> documented = readmeDefaults(Files.readAllLines(README, StandardCharsets.UTF_8));
        List<String> problems = new ArrayList<>();
        Map<String, Setting<?>> declared = declared();
        for (Map.Entry<String, Setting<?>> e : declared.entrySet()) {
            String shown = documented.get(e.getKey());
            if (shown == null) {
                problems.add(e.getKey() + " is declared but has no row in README.md's configuration table");
            } else if (!agrees(e.getValue(), shown)) {
                problems.add(e.getKey() + ": README.md shows default '" + shown + "', declared " + e.getValue());
            }
        }
        for (String key : documented.keySet()) {
            if (!declared.containsKey(key)) {
                problems.add(key + " has a row in README.md but no declaration");
            }
        }
        assertEquals(List.of(), problems, "README.md's configuration table");
    }

    @Test
    void theReadmeMethodRowListsEveryDeclaredMethod() throws IOException {
        String row = Files.readAllLines(README, StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("| `" + ConfigKeys.INVERSION_METHOD + "` |")).findFirst()
                .orElseThrow(() -> new AssertionError("README.md has no row for " + ConfigKeys.INVERSION_METHOD));
        for (InversionMethod m : FACTORY.declaredSettings().keySet()) {
            assertTrue(row.contains("`" + m.configName() + "`"), m.configName() + " is missing from " + row);
        }
    }

    @Test
    void theDefaultsFileAgreesWithTheDeclarations() throws IOException {
        List<String> lines;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(ConfigKeys.DEFAULTS_RESOURCE)) {
            assertNotNull(in, ConfigKeys.DEFAULTS_RESOURCE);
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        Map<String, String> set = new LinkedHashMap<>();
        Map<String, String> shown = new LinkedHashMap<>();
        for (String line : lines) {
            String l = line.strip();
            Matcher m = COMMENTED.matcher(l);
            if (m.find()) {
                assertFalse(shown.containsKey(m.group(1)), m.group(1) + " is shown twice");
                shown.put(m.group(1), m.group(2));
            } else if (!l.isEmpty() && !l.startsWith("#")) {
                int eq = l.indexOf('=');
                assertTrue(eq > 0, "not a key=value line: " + l);
                set.put(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, Setting<?>> declared = declared();
        for (Map.Entry<String, Setting<?>> e : declared.entrySet()) {
            boolean core = ConfigKeys.SETTINGS.contains(e.getValue());
            // core keys are set (the class-path layer of the configuration); solver settings only shown
            String value = core ? set.get(e.getKey()) : shown.get(e.getKey());
            if (value == null) {
                problems.add(e.getKey() + " is declared but " + (core ? "not set" : "not shown") + " in the defaults file");
            } else if (!agrees(e.getValue(), value)) {
                problems.add(e.getKey() + ": the defaults file has '" + value + "', declared " + e.getValue());
            }
        }
        for (String key : new TreeSet<>(set.keySet())) {
            if (!declared.containsKey(key) || !ConfigKeys.SETTINGS.contains(declared.get(key))) {
                problems.add(key + " is set in the defaults file but is not a declared core key");
            }
        }
        for (String key : shown.keySet()) {
            if (!declared.containsKey(key)) {
                problems.add(key + " is shown in the defaults file but no method declares it");
            }
        }
        assertEquals(List.of(), problems, ConfigKeys.DEFAULTS_RESOURCE);
    }

    @Test
    void theCheckCatchesADisagreement() {
        Setting<Double> rtol = Setting.ofDouble("rtol", 1e-7, "tolerance");
        assertTrue(agrees(rtol, "1e-7"));
        assertTrue(agrees(rtol, "1.0E-7"));
        assertFalse(agrees(rtol, "1e-6"));
        assertFalse(agrees(rtol, "empty"));
        assertFalse(agrees(rtol, "p"));
        Setting<Integer> maxiter = Setting.ofInt("maxiter", 0, "limit").withDefaultDescription("p");
        assertTrue(agrees(maxiter, "p") && agrees(maxiter, "0"));
        assertFalse(agrees(maxiter, "10·p"));
        assertTrue(agrees(Setting.ofString("influence.backend", "", "name"), "empty"));
        Map<String, String> rows = readmeDefaults(List.of("| key | meaning | default |", "|---|---|---|",
                "| `influence.inversion.cg.rtol`, `.atol` | a \\| b | `1e-7`, `p` |",
                "| `influence.backend` | name | empty |", ""));
        assertEquals(Map.of("influence.inversion.cg.rtol", "1e-7", "influence.inversion.cg.atol", "p",
                "influence.backend", "empty"), rows);
    }

    /**
     * @return the default each key of README's configuration table ({@code | key | meaning | default |})
     *     shows: a row names one key, or a first key and {@code .suffix}es of the same prefix, with as
     *     many defaults in backticks (or one plain word such as {@code empty})
     */
    static Map<String, String> readmeDefaults(List<String> lines) {
        int start = lines.indexOf("| key | meaning | default |");
        if (start < 0) {
            fail("README.md has no '| key | meaning | default |' table");
        }
        Map<String, String> defaults = new LinkedHashMap<>();
        for (int i = start + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            String[] cells = lines.get(i).split("(?<!\\\\)\\|");
            assertEquals(4, cells.length, "a row of three cells: " + lines.get(i));
            List<String> keys = codes(cells[1]);
            List<String> values = codes(cells[3]);
            if (values.isEmpty()) {
                values = List.of(cells[3].trim());
            }
            assertEquals(keys.size(), values.size(), "as many defaults as keys: " + lines.get(i));
            String first = keys.get(0);
            String prefix = first.substring(0, first.lastIndexOf('.'));
            for (int k = 0; k < keys.size(); k++) {
                String key = k == 0 ? first : prefix + keys.get(k);
                assertTrue(key.startsWith(ConfigKeys.PREFIX) && (k == 0 || keys.get(k).startsWith(".")),
                        "a key or a .suffix: " + keys.get(k) + " in " + lines.get(i));
                defaults.put(key, values.get(k));
            }
        }
        return defaults;
    }

    private static List<String> codes(String cell) {
        List<String> found = new ArrayList<>();
        Matcher m = CODE.matcher(cell);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }
}
