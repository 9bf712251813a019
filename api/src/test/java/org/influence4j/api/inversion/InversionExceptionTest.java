package org.influence4j.api.inversion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.inversion.InversionException.Reason;
import org.junit.jupiter.api.Test;

/** The typed reason of {@link InversionException}: given, never null, {@code OTHER} for the old constructors. */
class InversionExceptionTest {

    @Test
    void carriesItsReasonMessageAndCause() {
        IllegalStateException cause = new IllegalStateException("root");
        InversionException e = new InversionException(Reason.DIVERGENCE, "diverged; raise λ", cause);
        assertEquals(Reason.DIVERGENCE, e.reason());
        assertEquals("diverged; raise λ", e.getMessage());
        assertSame(cause, e.getCause());
        assertEquals(Reason.SINGULAR, new InversionException(Reason.SINGULAR, "singular").reason());
    }

    @Test
    @SuppressWarnings("deprecation")
    void messageOnlyConstructorsGiveOtherAndANullReasonIsRefused() {
        assertEquals(Reason.OTHER, new InversionException("old").reason());
        assertEquals(Reason.OTHER, new InversionException("old", new RuntimeException()).reason());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new InversionException(null, "x"));
        assertTrue(e.getMessage().contains("Reason.OTHER"), e.getMessage());
    }
}
