package org.influence4j.api.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A {@link Setting} declaration: its default, parsing, reading from {@link SolverSettings} and errors. */
class SettingTest {

    private static final Setting<Double> RTOL = Setting.ofDouble("rtol", 1e-7, "relative tolerance");
    private static final Setting<Integer> MAXITER = Setting.ofInt("maxiter", 0, "0 = p").withDefaultDescription("p");
    private static final Setting<Boolean> BLOCK = Setting.ofBoolean("block", false, "block CG");

    @Test
    void defaultsAreWrittenAsAUserWritesThem() {
        assertEquals(1e-7, RTOL.defaultValue());
        assertEquals("1e-7", RTOL.defaultText());
        assertEquals("1e-7", RTOL.defaultDescription());
        assertEquals("0", MAXITER.defaultText());
        assertEquals("p", MAXITER.defaultDescription());
        assertEquals("10", Setting.ofDouble("scale", 10, "s").defaultText());
        assertEquals("0.5", Setting.ofDouble("d", 0.5, "d").defaultText());
        assertEquals("1.5e-4", Setting.ofDouble("t", 1.5e-4, "t").defaultText());
        assertEquals("", Setting.ofString("influence.backend", "", "name").defaultText());
        for (Setting<?> s : List.of(RTOL, MAXITER, BLOCK)) {
            assertEquals(s.defaultValue(), s.parse(s.defaultText()), s.toString());
        }
    }

    @Test
    void readTakesTheValueOrTheDefaultAndNamesTheKeyOfABadValue() {
        SolverSettings s = SolverSettings.of(Map.of("rtol", " 1e-9 ", "block", "yes", "maxiter", " "));
        assertEquals(1e-9, s.get(RTOL));
        assertEquals(true, s.get(BLOCK));
        assertEquals(0, s.get(MAXITER), "a blank value is the default");
        assertEquals(1e-7, RTOL.read(SolverSettings.empty()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SolverSettings.of(Map.of("maxiter", "many")).get(MAXITER));
        assertEquals("solver setting 'maxiter': 'many' is not an integer", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BLOCK.parse("perhaps"));
        assertTrue(e.getMessage().contains("'block'") && e.getMessage().contains("true or false"), e.getMessage());
    }

    @Test
    void requireDeclaredRefusesUnknownKeysAndBadValues() {
        List<Setting<?>> declared = List.of(RTOL, MAXITER);
        SolverSettings.of(Map.of("rtol", "1e-3")).requireDeclared("cg", declared);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SolverSettings.of(Map.of("rtoll", "1e-3")).requireDeclared("cg", declared));
        assertTrue(e.getMessage().contains("'rtoll'") && e.getMessage().contains("[maxiter, rtol]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SolverSettings.of(Map.of("rtol", "tiny")).requireDeclared("cg", declared));
        assertTrue(e.getMessage().contains("'rtol'"), e.getMessage());
    }

    @Test
    void aDeclarationNeedsAKeyADefaultAndDocumentation() {
        assertThrows(IllegalArgumentException.class, () -> Setting.ofInt(" ", 1, "doc"));
        assertThrows(IllegalArgumentException.class, () -> Setting.ofInt("k", 1, " "));
        assertThrows(IllegalArgumentException.class,
                () -> Setting.of("k", String.class, null, t -> t, t -> t, "doc"));
        assertThrows(IllegalArgumentException.class, () -> MAXITER.withDefaultDescription(""));
    }
}
