package org.influence4j.backend.pytorch;

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

class PtBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderAndItIsAvailable() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p instanceof PtBackendProvider)
                .toList();
        assertEquals(1, found.size(), "exactly one PtBackendProvider registered in META-INF/services");
        BackendProvider provider = found.get(0);
        assertEquals("djl-pytorch", provider.name());
        assertEquals(0, provider.rank());
        assertTrue(provider.isAvailable(), "natives jar is on the test class path");
    }

    @Test
    void createReturnsOneSharedBackendWithEngineVersionAndHonestCapabilities() {
        PtBackendProvider provider = new PtBackendProvider();
        Backend a = provider.create();
        Backend b = provider.create();
        assertSame(a, b);
        assertEquals("djl-pytorch", a.name());
        assertEquals("DJL 0.35.1 / PyTorch 2.7.1", a.version());
        assertTrue(a.capabilities().contains(BackendCapability.FLOAT64));
        assertTrue(a.capabilities().contains(BackendCapability.EXACT_HVP));
        assertTrue(a.capabilities().contains(BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS));
        assertTrue(a.capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS));
        assertTrue(a.capabilities().contains(BackendCapability.MIXED_DERIVATIVES));
        assertFalse(a.capabilities().contains(BackendCapability.THREAD_SAFE_MODELS));
        assertFalse(a.capabilities().contains(BackendCapability.CUDA));
        assertEquals("true", System.getProperty("ai.djl.offline"));
    }

    @Test
    void platformClassifierMatchesDjlNaming() {
        String p = PtBackendProvider.platform();
        assertTrue(p.matches("(linux|osx|win)-(x86_64|aarch64)"), p);
    }
}
