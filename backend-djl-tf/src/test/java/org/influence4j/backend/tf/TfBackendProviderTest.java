package org.influence4j.backend.tf;

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

class TfBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderAndItIsAvailable() {
        List<BackendProvider> found = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> p instanceof TfBackendProvider)
                .toList();
        assertEquals(1, found.size(), "exactly one TfBackendProvider registered in META-INF/services");
        BackendProvider provider = found.get(0);
        assertEquals("djl-tf", provider.name());
        assertEquals(10, provider.rank());
        assertTrue(provider.isAvailable(), "natives jar is on the test class path");
    }

    @Test
    void createReturnsOneSharedBackendWithEngineVersionAndHonestCapabilities() {
        TfBackendProvider provider = new TfBackendProvider();
        Backend a = provider.create();
        Backend b = provider.create();
        assertSame(a, b);
        assertEquals("djl-tf", a.name());
        assertEquals("DJL 0.35.1 / TensorFlow 2.16.1", a.version());
        assertTrue(a.capabilities().contains(BackendCapability.FLOAT64));
        assertTrue(a.capabilities().contains(BackendCapability.EXACT_HVP));
        assertTrue(a.capabilities().contains(BackendCapability.BATCHED_PER_SAMPLE_GRADIENTS));
        assertTrue(a.capabilities().contains(BackendCapability.DENSE_LAYER_FACTORS));
        assertTrue(a.capabilities().contains(BackendCapability.MIXED_DERIVATIVES));
        assertFalse(a.capabilities().contains(BackendCapability.THREAD_SAFE_MODELS));
        assertFalse(a.capabilities().contains(BackendCapability.CUDA));
        assertTrue(java.nio.file.Files.isRegularFile(java.nio.file.Path.of(
                System.getProperty("TENSORFLOW_LIBRARY_PATH"), "libjnitensorflow.so")), "natives extracted");
    }

    @Test
    void platformClassifierMatchesTensorFlowJavaNaming() {
        String p = TfNatives.platform();
        assertTrue(p.matches("(linux|macosx|windows)-(x86_64|arm64)"), p);
    }

    @Test
    void withoutTheEngineClassesItIsUnavailableAndLoadsNothing() {
        Thread thread = Thread.currentThread();
        ClassLoader saved = thread.getContextClassLoader();
        try (java.net.URLClassLoader empty = new java.net.URLClassLoader(new java.net.URL[0], null)) {
            thread.setContextClassLoader(empty);
            assertFalse(new TfBackendProvider().isAvailable());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            thread.setContextClassLoader(saved);
        }
    }

    @Test
    void missingNativeJarGivesAReasonNamingTheArtifact() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv(TfNatives.LIBRARY_PATH_PROPERTY) == null,
                "the environment points at a TensorFlow installation");
        String saved = System.getProperty(TfNatives.LIBRARY_PATH_PROPERTY);
        System.clearProperty(TfNatives.LIBRARY_PATH_PROPERTY);
        try (java.net.URLClassLoader empty = new java.net.URLClassLoader(new java.net.URL[0], null)) {
            assertFalse(TfNatives.nativeJarPresent(empty));
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> TfNatives.prepare(empty));
            assertTrue(e.getMessage().contains("org.tensorflow:tensorflow-core-native:1.0.0-rc.1")
                    && e.getMessage().contains("TENSORFLOW_LIBRARY_PATH"), e.getMessage());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            if (saved != null) {
                System.setProperty(TfNatives.LIBRARY_PATH_PROPERTY, saved);
            }
        }
    }
}
