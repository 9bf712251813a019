package org.influence4j.registry.plugins;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the backend plugins of one or more backends folders (see the package description).
 *
 * <p><b>Contract.</b> The plugins of a backends folder are its subfolders that hold at least one
 * {@code .jar} file, in the order of their names; other entries are ignored. A backends folder
 * that does not exist is logged with one warning and skipped, so that a stale setting never stops a
 * program that has backends on its class path. Plugins are opened through
 * {@link BackendPlugin#open(Path)} (once per folder and JVM).
 */
public final class BackendPlugins {

    /**
     * System property naming the backends folders whose plugins
     * {@link org.influence4j.registry.BackendDiscovery#load()} adds to the class path's backends: one
     * folder, or several separated by the platform's path separator ({@code :} on Linux). The
     * {@code influence4j} launcher sets it to the distribution's {@code backends/} folder (in the
     * source tree: {@code backend-*}{@code /target/backends}).
     */
    public static final String PROPERTY = "influence4j.backends";

    private static final Logger LOG = LoggerFactory.getLogger(BackendPlugins.class);

    private BackendPlugins() {
    }

    /** @return the backends folders named by {@value #PROPERTY}; empty when it is unset or blank */
    public static List<Path> configuredFolders() {
        return parseFolders(System.getProperty(PROPERTY));
    }

    /**
     * @param value folders separated by {@link File#pathSeparator}; blank entries are ignored
     * @return the folders, in order; empty for {@code null} or blank
     * @throws IllegalArgumentException naming {@value #PROPERTY} if an entry is not a valid path
     */
    static List<Path> parseFolders(String value) {
        List<Path> folders = new ArrayList<>();
        if (value == null) {
            return folders;
        }
        for (String entry : value.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            try {
                folders.add(Path.of(entry.trim()));
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException(PROPERTY + ": '" + entry + "' is not a folder path ("
                        + e.getMessage() + "); give backends folders separated by '" + File.pathSeparator + "'", e);
            }
        }
        return folders;
    }

    /**
     * The plugins of {@code backendsFolders}.
     *
     * @param backendsFolders folders whose subfolders are plugin folders
     * @return the plugins, folder by folder, each folder's by name
     * @throws IllegalArgumentException if {@code backendsFolders} or one of its entries is null
     */
    public static List<BackendPlugin> find(List<Path> backendsFolders) {
        if (backendsFolders == null) {
            throw new IllegalArgumentException("backendsFolders must not be null");
        }
        List<BackendPlugin> plugins = new ArrayList<>();
        for (Path root : backendsFolders) {
            if (root == null) {
                throw new IllegalArgumentException("backendsFolders must not contain null");
            }
            if (!Files.isDirectory(root)) {
                LOG.warn("Backends folder {} does not exist: no backend plugins from it (check -D{})", root, PROPERTY);
                continue;
            }
            for (Path folder : subfolders(root)) {
                try {
                    if (BackendPlugin.jars(folder).isEmpty()) {
                        LOG.debug("{} holds no jar: not a backend plugin", folder);
                        continue;
                    }
                    plugins.add(BackendPlugin.open(folder));
                } catch (UncheckedIOException | IllegalArgumentException e) {
                    LOG.warn("Backend plugin folder {} is skipped: {}", folder, e.getMessage());
                }
            }
        }
        return plugins;
    }

    private static List<Path> subfolders(Path root) {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            LOG.warn("Backends folder {} cannot be listed ({}): no backend plugins from it", root, e.toString());
            return List.of();
        }
    }
}
