package org.influence4j.backend.testkit;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.influence4j.api.internal.FileTrees;

/**
 * Builds plugin jars in tests: Java sources compiled at test time (so that their classes are on no
 * class path of the test) against chosen jars only (e.g. influence4j's api), written into a jar with
 * {@code META-INF/services} entries — what a user ships to add a backend or an inversion method.
 */
public final class PluginJars {

    private PluginJars() {
    }

    /**
     * @param jar       the jar to write (its folder is created; nothing else is written there)
     * @param sources   Java source text by qualified class name, e.g. {@code probe.ProbeProvider}
     * @param services  provider class names by service interface, each becoming a
     *                  {@code META-INF/services/<interface>} entry; empty for a jar without entries
     * @param classPath types whose jar or class folder the sources compile against (e.g. {@code Backend.class})
     * @return {@code jar}
     * @throws IllegalStateException with the compiler's messages if the sources do not compile
     * @throws IOException if a file cannot be written
     */
    public static Path write(Path jar, Map<String, String> sources, Map<Class<?>, List<String>> services,
                             Class<?>... classPath) throws IOException {
        if (sources == null || sources.isEmpty()) {
            throw new IllegalArgumentException("sources: give at least one class");
        }
        Path work = Files.createTempDirectory("influence4j-plugin-jar");
        try {
            compileAndPack(jar, work, sources, services, classPath);
        } finally {
            FileTrees.delete(work);
        }
        return jar;
    }

    private static void compileAndPack(Path jar, Path work, Map<String, String> sources,
                                       Map<Class<?>, List<String>> services, Class<?>... classPath) throws IOException {
        Path src = Files.createDirectories(work.resolve("src"));
        Path classes = Files.createDirectories(work.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", classPath(classPath)));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = src.resolve(e.getKey().replace('.', File.separatorChar) + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new IllegalStateException("no Java compiler: run the tests on a JDK, not a JRE");
        }
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        if (javac.run(null, null, messages, args.toArray(String[]::new)) != 0) {
            throw new IllegalStateException("the plugin sources do not compile: "
                    + messages.toString(StandardCharsets.UTF_8));
        }
        Files.createDirectories(jar.toAbsolutePath().getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
            for (Map.Entry<Class<?>, List<String>> e : services.entrySet()) {
                out.putNextEntry(new JarEntry("META-INF/services/" + e.getKey().getName()));
                out.write((String.join("\n", e.getValue()) + "\n").getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
    }

    /** @return the jar or class folder {@code type} was loaded from */
    private static Path location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("type " + type.getName() + " has no code source location"
                    + " (a JDK class?); give a type loaded from a jar or class folder", e);
        }
    }

    private static String classPath(Class<?>... types) {
        List<String> paths = new ArrayList<>();
        for (Class<?> t : types) {
            paths.add(location(t).toString());
        }
        return String.join(File.pathSeparator, paths);
    }
}
