package org.influence4j.backend.tf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.BackendProvider;
import org.influence4j.backend.testkit.AbstractBackendProviderTest;
import org.junit.jupiter.api.Test;

/** The shared provider checks for {@link TfBackendProvider}, plus its platform and missing-native handling. */
class TfBackendProviderTest extends AbstractBackendProviderTest {

    @Override
    protected BackendProvider newProvider() {
        return new TfBackendProvider();
    }

    @Override
    protected String expectedName() {
        return "djl-tf";
    }

    @Override
    protected int expectedRank() {
        return 10;
    }

    @Override
    protected String expectedVersion() {
        return "DJL 0.35.1 / TensorFlow 2.16.1";
    }

    @Override
    protected void assertEnvironmentPrepared() {
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
