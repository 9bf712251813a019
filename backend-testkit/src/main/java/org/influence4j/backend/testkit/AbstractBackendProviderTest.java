package org.influence4j.backend.testkit;

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

/**
 * A backend's {@link BackendProvider}: registered exactly once in {@code META-INF/services},
 * available on the test class path, and creating one shared {@link Backend} with the expected name,
 * version and capabilities (float64, exact HVPs, batched per-sample gradients, dense-layer factors,
 * mixed derivatives; neither thread-safe models nor CUDA). A backend's test supplies the provider,
 * the expected name, rank and version, and its own check of what the provider prepared.
 */
public abstract class AbstractBackendProviderTest {

    /** A new instance of the provider under test (its class is the one looked for in the service file). */
    protected abstract BackendProvider newProvider();

    /** The name the provider and its backend report. */
    protected abstract String expectedName();

    /** The provider's selection rank. */
    protected abstract int expectedRank();

    /** The exact version string of the backend (library and engine versions). */
    protected abstract String expectedVersion();

    /** Backend-specific checks of the environment the provider set up when creating the backend. */
    protected abstract void assertEnvironmentPrepared();

    @Test
    public void serviceLoaderFindsTheProviderAndItIsAvailable() {
        Class<? extends BackendProvider> type = newProvider().getClass();
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(type::isInstance)
                .toList();
        assertEquals(1, found.size(), "exactly one " + type.getSimpleName() + " registered in META-INF/services");
        BackendProvider provider = found.get(0);
        assertEquals(expectedName(), provider.name());
        assertEquals(expectedRank(), provider.rank());
        assertTrue(provider.isAvailable(), "natives jar is on the test class path");
    }

    @Test
    public void createReturnsOneSharedBackendWithEngineVersionAndHonestCapabilities() {
        BackendProvider provider = newProvider();
        Backend a = provider.create();
        Backend b = provider.create();
        assertSame(a, b);
        assertEquals(expectedName(), a.name());
        assertEquals(expectedVersion(), a.version());
        assertTrue(a.capabilities().contains(BackendCapability.FLOAT64));
        assertTrue(a.capabilities().contains(BackendCapability.EXACT_HVP));
        assertTrue(a.capabilities().contains(BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS));
        assertTrue(a.capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS));
        assertTrue(a.capabilities().contains(BackendCapability.MIXED_DERIVATIVES));
        assertFalse(a.capabilities().contains(BackendCapability.THREAD_SAFE_MODELS));
        assertFalse(a.capabilities().contains(BackendCapability.CUDA));
        assertEnvironmentPrepared();
    }
}
