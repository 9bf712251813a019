package org.influence4j.backend.tf;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.influence4j.api.internal.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the TensorFlow 2.16 native libraries of {@code org.tensorflow:tensorflow-core-native}
 * (classifier {@code linux-x86_64}) loadable by DJL's TensorFlow engine with no manual step.
 *
 * <p>DJL 0.35.1 looks for its own {@code tensorflow-native-*} jar, which is not on Maven Central for
 * TF 2.16, and would otherwise try to download the libraries. TF-Java's native jar holds the same
 * libraries under {@code org/tensorflow/internal/c_api/<platform>/}. They are copied once into a
 * cache folder (by default {@code ~/.djl.ai/tensorflow/influence4j-<version>-<platform>}, or under
 * {@code $DJL_CACHE_DIR}; files already there with the same size are reused) and the system
 * property {@code TENSORFLOW_LIBRARY_PATH} is set to that folder before the engine is loaded.
 * A {@code TENSORFLOW_LIBRARY_PATH} given by the user (system property or environment) is left alone.
 */
final class TfNatives {

    /** The property (or environment variable) DJL reads to find {@code libjnitensorflow.so}. */
    static final String LIBRARY_PATH_PROPERTY = "TENSORFLOW_LIBRARY_PATH";
    /** TF-Java native jar version whose libraries are extracted. */
    static final String NATIVE_VERSION = "1.0.0-rc.1";

    private static final Logger LOG = LoggerFactory.getLogger(TfNatives.class);
    private static final String[] LIBRARIES = {
        "libtensorflow_framework.so.2", "libtensorflow_cc.so.2", "libjnitensorflow.so"
    };

    private TfNatives() {
    }

    /** @return the class-path folder of the native libraries for this platform */
    static String resourceFolder() {
        return "org/tensorflow/internal/c_api/" + platform() + "/";
    }

    /** @return whether the user already points DJL at a TensorFlow installation */
    static boolean userLibraryPath() {
        return System.getProperty(LIBRARY_PATH_PROPERTY) != null || System.getenv(LIBRARY_PATH_PROPERTY) != null;
    }

    /** @return whether the native jar for this platform is on the class path (no native code is loaded) */
    static boolean nativeJarPresent(ClassLoader loader) {
        return loader.getResource(resourceFolder() + "libjnitensorflow.so") != null;
    }

    /**
     * Extracts the libraries (if needed) and sets {@code TENSORFLOW_LIBRARY_PATH}.
     *
     * @throws IllegalStateException naming the missing artifact or the I/O failure
     */
    static void prepare(ClassLoader loader) {
        if (userLibraryPath()) {
            LOG.debug("djl-tf: using the user's {}", LIBRARY_PATH_PROPERTY);
            return;
        }
        if (!nativeJarPresent(loader)) {
            throw new IllegalStateException("djl-tf: no TensorFlow native libraries for " + platform()
                    + " on the class path; add org.tensorflow:tensorflow-core-native:" + NATIVE_VERSION
                    + " with classifier " + platform() + ", or set " + LIBRARY_PATH_PROPERTY
                    + " to a folder holding libjnitensorflow.so");
        }
        Path dir = cacheFolder();
        try {
            Files.createDirectories(dir);
            for (String lib : LIBRARIES) {
                extract(loader, lib, dir.resolve(lib));
            }
        } catch (IOException e) {
            throw new IllegalStateException("djl-tf: cannot extract the TensorFlow native libraries to " + dir
                    + " (" + e + "); make the folder writable, set DJL_CACHE_DIR, or set " + LIBRARY_PATH_PROPERTY, e);
        }
        System.setProperty(LIBRARY_PATH_PROPERTY, dir.toString());
    }

    private static void extract(ClassLoader loader, String lib, Path target) throws IOException {
        URL url = loader.getResource(resourceFolder() + lib);
        if (url == null) {
            throw new IOException("resource " + resourceFolder() + lib + " is missing from the native jar");
        }
        URLConnection connection = url.openConnection();
        long size = connection.getContentLengthLong();
        if (Files.isRegularFile(target) && size >= 0 && Files.size(target) == size) {
            return;
        }
        LOG.info("djl-tf: extracting {} to {}", lib, target.getParent());
        try (InputStream in = connection.getInputStream()) {
            AtomicFiles.write(target, in::transferTo); // flushed, renamed, folder flushed: never a torn library
        }
    }

    private static Path cacheFolder() {
        String base = System.getProperty("DJL_CACHE_DIR", System.getenv("DJL_CACHE_DIR"));
        Path root = base != null ? Path.of(base) : Path.of(System.getProperty("user.home"), ".djl.ai");
        return root.resolve("tensorflow").resolve("influence4j-" + NATIVE_VERSION + "-" + platform());
    }

    /** @return the platform classifier of this JVM, e.g. {@code linux-x86_64} */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("mac") ? "macosx" : os.startsWith("win") ? "windows" : os.startsWith("linux")
                ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }
}
