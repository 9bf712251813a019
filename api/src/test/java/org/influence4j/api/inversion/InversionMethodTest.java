package org.influence4j.api.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Method names are open: built-in constants plus any well-formed name, equal by name. */
class InversionMethodTest {

    @Test
    void builtInNamesResolveToTheirConstants() {
        assertSame(InversionMethod.CG, InversionMethod.of("cg"));
        assertSame(InversionMethod.CG, InversionMethod.parse(" Conjugate-Gradient "));
        assertSame(InversionMethod.NYSTROEM, InversionMethod.parse("Nystrom"));
        assertSame(InversionMethod.ARNOLDI, InversionMethod.parse("ARNOLDI"));
        assertArrayEquals(new InversionMethod[] {InversionMethod.DIRECT, InversionMethod.CG, InversionMethod.LISSA,
                InversionMethod.ARNOLDI, InversionMethod.EKFAC, InversionMethod.NYSTROEM}, InversionMethod.values());
        assertEquals("CG", InversionMethod.CG.name());
        assertEquals("CG", InversionMethod.CG.toString());
        assertEquals("cg", InversionMethod.CG.configName());
        assertTrue(InversionMethod.CG.isBuiltIn());
    }

    @Test
    void anyWellFormedNameIsAMethodEqualByName() {
        InversionMethod mine = InversionMethod.parse("Host_CG");
        assertEquals("hostcg", mine.configName());
        assertFalse(mine.isBuiltIn());
        assertEquals(InversionMethod.of("hostcg"), mine);
        assertEquals(InversionMethod.of("hostcg").hashCode(), mine.hashCode());
        assertNotEquals(InversionMethod.CG, mine);
        List<InversionMethod> sorted = new ArrayList<>(List.of(InversionMethod.of("zeta"), mine,
                InversionMethod.NYSTROEM, InversionMethod.DIRECT));
        Collections.sort(sorted);
        assertEquals(List.of(InversionMethod.DIRECT, InversionMethod.NYSTROEM, mine, InversionMethod.of("zeta")), sorted,
                "built-in methods first in declaration order, then names alphabetically");
    }

    @Test
    void malformedNamesAreRefusedNamingTheRule() {
        for (String bad : new String[] {"", " ", "a.b", "9lives", "two words", "method", "Cg"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InversionMethod.of(bad));
            assertTrue(e.getMessage().startsWith("inversion method: '" + bad + "'"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InversionMethod.parse("a.b"));
        assertTrue(e.getMessage().contains("'a.b'") && e.getMessage().contains("nystroem"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> InversionMethod.parse(null));
        assertThrows(IllegalArgumentException.class, () -> InversionMethod.parse("method"));
    }

    @Test
    void deserialisationKeepsConstantsIdentical() throws IOException, ClassNotFoundException {
        assertSame(InversionMethod.CG, roundTrip(InversionMethod.CG));
        assertEquals(InversionMethod.of("hostcg"), roundTrip(InversionMethod.of("hostcg")));
        assertFalse(((InversionMethod) roundTrip(InversionMethod.of("hostcg"))).isBuiltIn());
    }

    private static Object roundTrip(Object value) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
