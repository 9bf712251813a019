package org.influence4j.backend.tf;

import ai.djl.engine.Engine;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.influence4j.backend.djl.DjlClassPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service provider of the {@code djl-tf} backend (rank 10), registered in
 * {@code META-INF/services/org.influence4j.api.BackendProvider}.
 *
 * <p>{@link #isAvailable()} loads no native code: it checks that DJL's TensorFlow engine and the
 * TF-Java graph API are on the class path, and that natives can be found — the
 * {@code org.tensorflow:tensorflow-core-native} jar for this platform, or
 * {@code TENSORFLOW_LIBRARY_PATH}.
 *
 * <p>{@link #create()} extracts the natives from that jar (see {@code TfNatives}), points
 * {@code TENSORFLOW_LIBRARY_PATH} at them, loads the engine once per JVM, checks that a TF graph can
 * be built, and returns one shared {@link TfBackend}. Any failure becomes an
 * {@link IllegalStateException} saying why, so that discovery logs one line and skips the backend.
 */
public final class TfBackendProvider implements BackendProvider {

    /** The backend name used in configuration. */
    public static final String NAME = "djl-tf";

    private static final Logger LOG = LoggerFactory.getLogger(TfBackendProvider.class);
    private static final String[] ENGINE_CLASSES = {
        "ai.djl.engine.Engine", "ai.djl.tensorflow.engine.TfEngineProvider", "org.tensorflow.Graph",
        "org.tensorflow.Session"
    };
    private static final Object LOCK = new Object();
    private static volatile TfBackend shared;
    private static volatile IllegalStateException failure;

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public TfBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 10;
    }

    @Override
    public boolean isAvailable() {
        ClassLoader loader = loader();
        if (!DjlClassPath.classesPresent(loader, NAME, LOG, ENGINE_CLASSES)) {
            return false;
        }
        if (TfNatives.userLibraryPath() || TfNatives.nativeJarPresent(loader)) {
            return true;
        }
        LOG.debug("djl-tf unavailable: no org.tensorflow:tensorflow-core-native jar for {} on the class path",
                TfNatives.platform());
        return false;
    }

    /**
     * Returns the shared backend, loading the TensorFlow engine on the first call.
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
     * @throws IllegalStateException if the native engine cannot be loaded (also on later calls: a
     *     failed load is not retried within one JVM)
     */
    public static TfBackend backend() {
        TfBackend b = shared;
        if (b != null) {
            return b;
        }
        synchronized (LOCK) {
            if (shared != null) {
                return shared;
            }
            if (failure != null) {
                throw new IllegalStateException(failure.getMessage(), failure);
            }
            try {
                shared = load();
            } catch (IllegalStateException e) {
                failure = e;
                throw e;
            }
            LOG.info("djl-tf backend ready: {}", shared.version());
            return shared;
        }
    }

    private static TfBackend load() {
        TfNatives.prepare(loader());
        Engine engine;
        try {
            engine = Engine.getEngine("TensorFlow");
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("djl-tf: the TensorFlow native engine could not be loaded (" + e
                    + "); put ai.djl.tensorflow:tensorflow-engine and org.tensorflow:tensorflow-core-native:"
                    + TfNatives.NATIVE_VERSION + " (classifier " + TfNatives.platform() + ") on the class path,"
                    + " or set " + TfNatives.LIBRARY_PATH_PROPERTY + " to a TensorFlow 2.16 installation", e);
        }
        if (engine == null) {
            throw new IllegalStateException("djl-tf: DJL found no engine named TensorFlow; put"
                    + " ai.djl.tensorflow:tensorflow-engine on the class path");
        }
        try (org.tensorflow.Graph graph = new org.tensorflow.Graph()) {
            org.tensorflow.op.Ops.create(graph).constant(1.0);
        } catch (RuntimeException | LinkageError e) {
            throw new IllegalStateException("djl-tf: the TensorFlow engine loaded but a TF-Java graph cannot be"
                    + " built (" + e + "); the tensorflow-core-native version must match DJL's tensorflow-api ("
                    + TfNatives.NATIVE_VERSION + ")", e);
        }
        return new TfBackend(engine);
    }

    private static ClassLoader loader() {
        return DjlClassPath.loader(TfBackendProvider.class);
    }
}
