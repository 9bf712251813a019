package org.influence4j.backend.nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Properties;
import org.influence4j.api.Backend;
import org.influence4j.api.BackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service provider of the {@code nd4j} backend (rank 20: chosen without configuration only when no
 * lower-ranked backend is available), registered in
 * {@code META-INF/services/org.influence4j.api.BackendProvider}.
 *
 * <p>{@link #isAvailable()} loads no native code: it checks that ND4J's classes are on the class path
 * and that either the CPU backend with its natives for this platform
 * ({@code org.nd4j:nd4j-native} with classifier {@code linux-x86_64} etc.) or the CUDA backend
 * ({@code org.nd4j:nd4j-cuda-11.6}) is present.
 *
 * <p>{@link #create()} loads ND4J's native backend once per JVM (ND4J picks one backend per JVM:
 * CUDA if present and loadable, else CPU) and returns one shared {@link Nd4jBackend}; a failure is
 * reported as an {@link IllegalStateException} naming the artifacts to add.
 */
public final class Nd4jBackendProvider implements BackendProvider {

    /** The backend name used in configuration. */
    public static final String NAME = "nd4j";

    private static final Logger LOG = LoggerFactory.getLogger(Nd4jBackendProvider.class);
    private static final String ND4J_CLASS = "org.nd4j.linalg.factory.Nd4j";
    private static final String CPU_CLASS = "org.nd4j.linalg.cpu.nativecpu.CpuBackend";
    private static final String CUDA_CLASS = "org.nd4j.linalg.jcublas.JCublasBackend";
    private static final String CPU_NATIVES = "org/nd4j/linalg/cpu/nativecpu/bindings/%s/%s";
    private static final String ND4J_POM = "META-INF/maven/org.nd4j/nd4j-api/pom.properties";
    private static final Object LOCK = new Object();
    private static volatile Nd4jBackend shared;

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public Nd4jBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return 20;
    }

    @Override
    public boolean isAvailable() {
        ClassLoader loader = loader();
        if (!present(ND4J_CLASS, loader)) {
            LOG.debug("nd4j unavailable: org.nd4j:nd4j-api is not on the class path");
            return false;
        }
        if (present(CUDA_CLASS, loader)) {
            return true;
        }
        if (!present(CPU_CLASS, loader)) {
            LOG.debug("nd4j unavailable: neither org.nd4j:nd4j-native nor org.nd4j:nd4j-cuda-* is on the class path");
            return false;
        }
        String resource = String.format(Locale.ROOT, CPU_NATIVES, platform(), System.mapLibraryName("jnind4jcpu"));
        if (loader.getResource(resource) == null) {
            LOG.debug("nd4j unavailable: no org.nd4j:nd4j-native jar with classifier {} on the class path", platform());
            return false;
        }
        return true;
    }

    /**
     * Returns the shared backend, loading ND4J's native backend on the first call.
     *
     * @throws IllegalStateException if the natives cannot be loaded; the message says why and what to add
     */
    @Override
    public Backend create() {
        return backend();
    }

    /**
     * The shared backend with its concrete type.
     *
     * @throws IllegalStateException if ND4J's native backend cannot be loaded
     */
    public static Nd4jBackend backend() {
        Nd4jBackend b = shared;
        if (b != null) {
            return b;
        }
        synchronized (LOCK) {
            if (shared == null) {
                String backendName;
                String blas;
                try {
                    org.nd4j.linalg.factory.Nd4jBackend loaded = org.nd4j.linalg.factory.Nd4j.getBackend();
                    backendName = loaded.getClass().getSimpleName();
                    blas = String.valueOf(org.nd4j.linalg.factory.Nd4j.factory().blas().getBlasVendor());
                    // one tiny operation, so that a broken BLAS/native library fails here and not later
                    org.nd4j.linalg.api.ndarray.INDArray probe = org.nd4j.linalg.factory.Nd4j.eye(2)
                            .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
                    double trace = probe.mmul(probe).sumNumber().doubleValue();
                    probe.close();
                    if (trace != 2.0) {
                        throw new IllegalStateException("matrix product check gave " + trace + " instead of 2");
                    }
                } catch (RuntimeException | LinkageError e) {
                    throw new IllegalStateException("nd4j: the ND4J native backend could not be loaded (" + e
                            + "); put org.nd4j:nd4j-native and org.nd4j:nd4j-native (classifier " + platform()
                            + ") and org.bytedeco:openblas (classifier " + platform() + ") on the class path,"
                            + " or build with -Pnd4j-cuda on a machine with CUDA 11.6", e);
                }
                boolean cuda = backendName.toLowerCase(Locale.ROOT).contains("cublas")
                        || backendName.toLowerCase(Locale.ROOT).contains("cuda");
                shared = new Nd4jBackend("ND4J " + nd4jVersion() + " / " + backendName + " / " + blas, cuda);
                LOG.info("nd4j backend ready: {}", shared.version());
            }
            return shared;
        }
    }

    private static String nd4jVersion() {
        try (InputStream in = Nd4jBackendProvider.class.getClassLoader().getResourceAsStream(ND4J_POM)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            LOG.debug("nd4j: cannot read {}: {}", ND4J_POM, e.toString());
        }
        return "unknown";
    }

    private static boolean present(String cls, ClassLoader loader) {
        try {
            Class.forName(cls, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private static ClassLoader loader() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return cl != null ? cl : Nd4jBackendProvider.class.getClassLoader();
    }

    /** @return the JavaCPP platform of this JVM, e.g. {@code linux-x86_64} */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("mac") ? "macosx" : os.startsWith("win") ? "windows" : os.startsWith("linux") ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }
}
