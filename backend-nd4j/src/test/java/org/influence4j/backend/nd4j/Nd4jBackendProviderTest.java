package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.BackendProvider;
import org.influence4j.backend.testkit.AbstractBackendProviderTest;
import org.junit.jupiter.api.Test;

/** The shared provider checks for {@link Nd4jBackendProvider}, plus its platform and missing-native handling. */
class Nd4jBackendProviderTest extends AbstractBackendProviderTest {

    @Override
    protected BackendProvider newProvider() {
        return new Nd4jBackendProvider();
    }

    @Override
    protected String expectedName() {
        return "nd4j";
    }

    @Override
    protected int expectedRank() {
        return 20;
    }

    @Override
    protected String expectedVersion() {
        return "ND4J 1.0.0-M2.1 / CpuBackend / OPENBLAS";
    }

    @Override
    protected void assertEnvironmentPrepared() {
        // no environment of its own to check beyond the shared checks
    }

    @Test
    void isAvailableIsFalseWithoutNd4jOnTheClassPath() throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try (java.net.URLClassLoader empty = new java.net.URLClassLoader(new java.net.URL[0], null)) {
            thread.setContextClassLoader(empty);
            assertFalse(new Nd4jBackendProvider().isAvailable());
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Test
    void platformClassifierMatchesJavaCppNaming() {
        String p = Nd4jBackendProvider.platform();
        assertTrue(p.matches("(linux|macosx|windows)-(x86_64|arm64)"), p);
    }
}
