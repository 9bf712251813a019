package org.influence4j.backend.pytorch;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Properties;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.backend.djl.DjlClassPath;
import org.influence4j.backend.djl.NativeAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service provider of the {@code djl-pytorch} backend (rank 0: the default when no backend is
 * configured), registered in {@code META-INF/services/org.influence4j.api.BackendProvider}.
 *
 * <p>{@link #isAvailable()} loads no native code: it checks that DJL's PyTorch engine classes are
 * on the class path and that natives can be found without a download — a
 * {@code pytorch-native-*} jar for this platform, or {@code PYTORCH_LIBRARY_PATH}, or
 * {@code ai.djl.offline=false} (downloads explicitly allowed).
 *
 * <p>{@link #create()} sets the system property {@code ai.djl.offline=true} unless it is already
 * set (so that DJL extracts the natives from the jar and never downloads), loads the engine once
 * per JVM and returns one shared {@link PtBackend}. When the system property
 * {@value org.influence4j.api.BackendProvider#THREADS_PROPERTY} is set (to a count of at least 1),
 * the engine is loaded with that many intra-op threads and one inter-op thread (DJL's
 * {@code ai.djl.pytorch.num_threads} and {@code ai.djl.pytorch.num_interop_threads}). Before the
 * engine loads it applies {@link NativeAllocator}'s policy for glibc's {@code malloc} unless
 * {@value org.influence4j.api.BackendProvider#RETAIN_FREED_MEMORY_PROPERTY} is {@code false}.
 */
public final class PtBackendProvider implements BackendProvider {

    /** The backend name used in configuration. */
    public static final String NAME = "djl-pytorch";

    /** DJL's system property that forbids downloads. */
    static final String OFFLINE_PROPERTY = "ai.djl.offline";

    private static final Logger LOG = LoggerFactory.getLogger(PtBackendProvider.class);
    private static final String[] ENGINE_CLASSES = {
        "ai.djl.engine.Engine", "ai.djl.pytorch.engine.PtEngineProvider", "ai.djl.pytorch.jni.JniUtils"
    };
    private static final String NATIVE_PROPERTIES = "native/lib/pytorch.properties";
    private static final String JNI_PROPERTIES = "jnilib/pytorch.properties";
    private static final Object LOCK = new Object();
    private static volatile PtBackend shared;

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public PtBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        ClassLoader loader = DjlClassPath.loader(PtBackendProvider.class);
        if (!DjlClassPath.classesPresent(loader, NAME, LOG, ENGINE_CLASSES)) {
            return false;
        }
        if (System.getProperty("PYTORCH_LIBRARY_PATH") != null || System.getenv("PYTORCH_LIBRARY_PATH") != null) {
            return true;
        }
        if ("false".equalsIgnoreCase(System.getProperty(OFFLINE_PROPERTY))) {
            return true;
        }
        if (loader.getResource(JNI_PROPERTIES) == null) {
            LOG.debug("djl-pytorch unavailable: ai.djl.pytorch:pytorch-jni is not on the class path");
            return false;
        }
        String platform = platform();
        try {
            Enumeration<URL> urls = loader.getResources(NATIVE_PROPERTIES);
            while (urls.hasMoreElements()) {
                URL url = urls.nextElement();
                Properties props = new Properties();
                try (InputStream in = url.openStream()) {
                    props.load(in);
                }
                if (platform.equals(props.getProperty("classifier"))) {
                    return true;
                }
                LOG.debug("djl-pytorch: native jar {} is for {}, not {}", url, props.getProperty("classifier"), platform);
            }
        } catch (IOException e) {
            LOG.debug("djl-pytorch unavailable: cannot read {}: {}", NATIVE_PROPERTIES, e.toString());
            return false;
        }
        LOG.debug("djl-pytorch unavailable: no ai.djl.pytorch:pytorch-native-* jar for {} on the class path", platform);
        return false;
    }

    /**
     * Returns the shared backend, loading the PyTorch engine on the first call.
     *
     * @throws IllegalStateException if the native engine cannot be loaded; the message says why and what to add
     */
    @Override
    public Backend create() {
        return backend();
    }

    /**
     * The shared backend with its concrete type.
     *
     * @throws IllegalStateException if the native engine cannot be loaded
     */
    public static PtBackend backend() {
        PtBackend b = shared;
        if (b != null) {
            return b;
        }
        synchronized (LOCK) {
            if (shared == null) {
                if (System.getProperty(OFFLINE_PROPERTY) == null) {
                    System.setProperty(OFFLINE_PROPERTY, "true");
                }
                applyThreads();
                NativeAllocator.Outcome allocator = NativeAllocator.retainFreedMemory();
                Engine engine;
                try {
                    engine = Engine.getEngine("PyTorch");
                } catch (RuntimeException | LinkageError e) {
                    throw new IllegalStateException("djl-pytorch: the PyTorch native engine could not be loaded ("
                            + e + "); put ai.djl.pytorch:pytorch-jni and ai.djl.pytorch:pytorch-native-cpu (classifier "
                            + platform() + ") on the class path, or point PYTORCH_LIBRARY_PATH at a libtorch"
                            + " installation, or set -D" + OFFLINE_PROPERTY + "=false to let DJL download it", e);
                }
                if (engine == null) {
                    throw new IllegalStateException("djl-pytorch: DJL found no engine named PyTorch; put"
                            + " ai.djl.pytorch:pytorch-engine on the class path");
                }
                shared = new PtBackend(engine);
                LOG.info("djl-pytorch backend ready: {}; native memory: {}", shared.version(), allocator.description());
            }
            return shared;
        }
    }

    /**
     * Maps {@value org.influence4j.api.BackendProvider#THREADS_PROPERTY} to DJL's PyTorch thread
     * properties, which the engine reads when it loads.
     *
     * @throws IllegalStateException naming the property when its value is not a count of at least 1
     */
    static void applyThreads() {
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return;
        }
        int threads;
        try {
            threads = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            threads = 0;
        }
        if (threads < 1) {
            throw new IllegalStateException(THREADS_PROPERTY + ": must be a whole number >= 1, got '" + value + "'");
        }
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }

    /** @return DJL's platform classifier of this JVM, e.g. {@code linux-x86_64} */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("mac") ? "osx" : os.startsWith("win") ? "win" : os.startsWith("linux") ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }
}
