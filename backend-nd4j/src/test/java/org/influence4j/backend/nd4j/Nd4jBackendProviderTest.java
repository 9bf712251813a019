package org.influence4j.backend.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.ServiceLoader;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendCapability;
import org.influence4j.api.BackendProvider;
import org.junit.jupiter.api.Test;

class Nd4jBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderAndItIsAvailable() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p instanceof Nd4jBackendProvider)
                .toList();
        assertEquals(1, found.size(), "exactly one Nd4jBackendProvider registered in META-INF/services");
        BackendProvider provider = found.get(0);
        assertEquals("nd4j", provider.name());
        assertEquals(20, provider.rank());
        assertTrue(provider.isAvailable(), "natives jar is on the test class path");
    }

    @Test
    void createReturnsOneSharedBackendWithEngineVersionAndHonestCapabilities() {
        Nd4jBackendProvider provider = new Nd4jBackendProvider();
        Backend a = provider.create();
        Backend b = provider.create();
        assertSame(a, b);
        assertEquals("nd4j", a.name());
        assertEquals("ND4J 1.0.0-M2.1 / CpuBackend / OPENBLAS", a.version());
        assertTrue(a.capabilities().contains(BackendCapability.FLOAT64));
        assertTrue(a.capabilities().contains(BackendCapability.EXACT_HVP));
        assertTrue(a.capabilities().contains(BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS));
        assertTrue(a.capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS));
        assertTrue(a.capabilities().contains(BackendCapability.MIXED_DERIVATIVES));
        assertFalse(a.capabilities().contains(BackendCapability.THREAD_SAFE_MODELS));
        assertFalse(a.capabilities().contains(BackendCapability.CUDA));
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
