package org.influence4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code --version}: the Maven project version, written into {@code version.properties} by the build. */
final class VersionProvider implements IVersionProvider {

    static final String RESOURCE = "version.properties";

    @Override
    public String[] getVersion() {
        return new String[] {"influence4j " + version()};
    }

    /** The version of this build, e.g. {@code 0.1.0}. */
    static String version() {
        Properties properties = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("--version: resource org/influence4j/cli/" + RESOURCE
                        + " is missing from the class path");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("--version: cannot read org/influence4j/cli/" + RESOURCE, e);
        }
        String version = properties.getProperty("version", "");
        if (version.isBlank() || version.contains("${")) {
            throw new IllegalStateException("--version: org/influence4j/cli/" + RESOURCE
                    + " was not filtered by the Maven build (version=" + version + ")");
        }
        return version.strip();
    }
}
