package org.influence4j.registry.plugins;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * One plugin folder (the jars of a backend and its runtime dependencies) and the class loader that
 * loads them.
 *
 * <p><b>Contract.</b>
 * <ul>
 *   <li>The class loader finds JDK classes first, then the classes of {@link #SHARED_PACKAGES} from
 *       the application (so types such as {@code org.influence4j.api.Tensor} are the application's),
 *       then the folder's jars; no other class or resource of the application is visible to it.</li>
 *   <li>{@link #open(Path)} returns one instance per folder (by real path) for the life of the JVM: a
 *       native library can be loaded by one class loader only, so a folder is never loaded twice.
 *       The class loader is never closed.</li>
 *   <li>{@link #call(Supplier)} runs code with the plugin's class loader as the thread's context
 *       class loader: engines that look up their own services through the context class loader
 *       (DJL, ND4J) find them.</li>
 * </ul>
 * Instances are thread-safe.
 */
public final class BackendPlugin {

    /**
     * Package prefixes the plugin class loaders share with the application: influence4j's api (the
     * backend SPI and every type passed between application and backend) and the SLF4J api (so that
     * plugins log through the application's logger).
     */
    public static final List<String> SHARED_PACKAGES = List.of("org.influence4j.api.", "org.slf4j.");

    private static final Map<Path, BackendPlugin> OPEN = new ConcurrentHashMap<>();
    private static final ClassLoader SHARED = new SharedClassLoader();

    private final String name;
    private final Path folder;
    private final List<Path> jars;
    private final URLClassLoader classLoader;

    private BackendPlugin(Path folder, List<Path> jars) {
        this.folder = folder;
        this.name = folder.getFileName().toString();
        this.jars = List.copyOf(jars);
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = jars.get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("folder: cannot turn " + jars.get(i) + " into a URL", e);
            }
        }
        this.classLoader = new URLClassLoader("influence4j-backend-" + name, urls, SHARED);
    }

    /**
     * Opens a plugin folder, or returns the instance already opened for it.
     *
     * @param folder a folder holding {@code *.jar} files (subfolders are not searched)
     * @throws IllegalArgumentException naming the folder when it does not exist, cannot be read or
     *     holds no jar
     */
    public static BackendPlugin open(Path folder) {
        if (folder == null) {
            throw new IllegalArgumentException("folder must not be null");
        }
        Path real;
        try {
            real = folder.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("folder: backend plugin folder " + folder + " does not exist", e);
        }
        if (!Files.isDirectory(real)) {
            throw new IllegalArgumentException("folder: " + folder + " is not a folder; a backend plugin is a folder of jars");
        }
        return OPEN.computeIfAbsent(real, f -> {
            List<Path> jars = jars(f);
            if (jars.isEmpty()) {
                throw new IllegalArgumentException("folder: backend plugin folder " + f + " holds no .jar file");
            }
            return new BackendPlugin(f, jars);
        });
    }

    /** @return the {@code *.jar} files directly in {@code folder}, by name; empty if none */
    static List<Path> jars(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list backend plugin folder " + folder, e);
        }
    }

    /** @return the folder's name, e.g. {@code djl-pytorch} */
    public String name() {
        return name;
    }

    /** @return the folder (its real path) */
    public Path folder() {
        return folder;
    }

    /** @return the jars on the plugin's class path, by file name */
    public List<Path> jars() {
        return jars;
    }

    /** @return the plugin's class loader */
    public ClassLoader classLoader() {
        return classLoader;
    }

    /**
     * Runs {@code action} with this plugin's class loader as the current thread's context class
     * loader, restoring the previous one afterwards.
     *
     * @return what {@code action} returns
     */
    public <T> T call(Supplier<T> action) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(classLoader);
        try {
            return action.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Override
    public String toString() {
        return "backend plugin " + folder;
    }

    /**
     * The parent of every plugin class loader: the JDK's classes (through the platform class loader)
     * and, from the application, the classes of {@link #SHARED_PACKAGES} — and nothing else, no
     * resource of the application either (so a plugin's {@code ServiceLoader} reads only the
     * plugin's own {@code META-INF/services} files).
     */
    private static final class SharedClassLoader extends ClassLoader {

        static {
            ClassLoader.registerAsParallelCapable();
        }

        SharedClassLoader() {
            super("influence4j-shared-api", ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            for (String prefix : SHARED_PACKAGES) {
                if (name.startsWith(prefix)) {
                    return Class.forName(name, false, application(prefix));
                }
            }
            throw new ClassNotFoundException(name);
        }

        /** @return the loader that holds the application's copy of the shared package {@code prefix} */
        private static ClassLoader application(String prefix) {
            Class<?> anchor = prefix.startsWith("org.slf4j.")
                    ? org.slf4j.LoggerFactory.class : org.influence4j.api.Backend.class;
            return anchor.getClassLoader();
        }
    }
}
