package org.influence4j.backend.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.BackendProvider;
import org.influence4j.backend.testkit.AbstractBackendProviderTest;
import org.junit.jupiter.api.Test;

/** The shared provider checks for {@link PtBackendProvider}, plus its platform and missing-native handling. */
class PtBackendProviderTest extends AbstractBackendProviderTest {

    @Override
    protected BackendProvider newProvider() {
        return new PtBackendProvider();
    }

    @Override
    protected String expectedName() {
        return "djl-pytorch";
    }

    @Override
    protected int expectedRank() {
        return 0;
    }

    @Override
    protected String expectedVersion() {
        return "DJL 0.35.1 / PyTorch 2.7.1";
    }

    @Override
    protected void assertEnvironmentPrepared() {
        assertEquals("true", System.getProperty("ai.djl.offline"));
    }

    @Test
    void platformClassifierMatchesDjlNaming() {
        String p = PtBackendProvider.platform();
        assertTrue(p.matches("(linux|osx|win)-(x86_64|aarch64)"), p);
    }
}
