package org.influence4j.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.commons.configuration2.AbstractConfiguration;
import org.apache.commons.configuration2.BaseConfiguration;
import org.apache.commons.configuration2.CompositeConfiguration;
import org.apache.commons.configuration2.MapConfiguration;
import org.apache.commons.configuration2.PropertiesConfiguration;
import org.apache.commons.configuration2.YAMLConfiguration;
import org.apache.commons.configuration2.convert.DefaultListDelimiterHandler;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.io.FileHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads influence4j's layered configuration with Apache Commons Configuration. The returned
 * {@link CompositeConfiguration} answers each key from the first layer that has it:
 * <ol>
 *   <li>Java system properties ({@code -Dinfluence.inversion.method=cg}); only keys starting with
 *       {@code influence.} are taken;</li>
 *   <li>environment variables: the key in upper case with dots as underscores
 *       ({@code INFLUENCE_INVERSION_METHOD=cg}); see {@link ConfigKeys#keyForEnvironmentName};</li>
 *   <li>the user file, {@code .properties} or {@code .yaml}/{@code .yml} (nested or dotted keys),
 *       found as: the explicit {@code userFile} argument, else the system property
 *       {@code -Dinfluence4j.config=PATH}, else the environment variable {@code INFLUENCE4J_CONFIG},
 *       else {@code influence4j.properties} / {@code .yaml} / {@code .yml} in the working directory
 *       if present (a named file that does not exist is an error; the working-directory file is
 *       optional);</li>
 *   <li>the documented class-path defaults {@value ConfigKeys#DEFAULTS_RESOURCE}.</li>
 * </ol>
 * Comma-separated values are split into lists ({@link DefaultListDelimiterHandler} with
 * {@code ','}) in every layer. Turn the result into validated values with
 * {@link InfluenceSettings#from}; algorithms receive those records, never the configuration.
 */
public final class InfluenceConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(InfluenceConfiguration.class);
    private static final char LIST_DELIMITER = ',';

    private InfluenceConfiguration() {
    }

    /** @return the configuration from the JVM's system properties, environment and files */
    public static CompositeConfiguration load() {
        return load(System.getenv(), null);
    }

    /**
     * @param userFile the user file ({@code null}: look it up as described in the class comment)
     * @return the configuration from the JVM's system properties and environment, this file and the
     *     defaults
     */
    public static CompositeConfiguration load(Path userFile) {
        return load(System.getenv(), userFile);
    }

    /**
     * @param environment the environment variables to use instead of {@link System#getenv()}
     * @param userFile    the user file ({@code null}: look it up as described in the class comment)
     * @return the configuration from the JVM's system properties, {@code environment}, the user
     *     file and the defaults
     */
    public static CompositeConfiguration load(Map<String, String> environment, Path userFile) {
        return load(System.getProperties(), environment, userFile, Path.of(""));
    }

    /**
     * The fully explicit form, for embedding and tests.
     *
     * @param systemProperties the properties of the top layer (a snapshot is taken); {@code null} = none
     * @param environment      environment variables; {@code null} = none
     * @param userFile         the user file, or {@code null} to look it up via
     *                         {@code influence4j.config} in {@code systemProperties}, then
     *                         {@code INFLUENCE4J_CONFIG} in {@code environment}, then
     *                         {@code workingDirectory}
     * @param workingDirectory where {@code influence4j.properties} / {@code .yaml} / {@code .yml}
     *                         are looked for; {@code null} = do not look
     * @throws IllegalArgumentException if a named user file does not exist, has an unknown
     *     extension or cannot be parsed (the message names the file and the source that named it)
     */
    public static CompositeConfiguration load(Properties systemProperties, Map<String, String> environment,
                                              Path userFile, Path workingDirectory) {
        CompositeConfiguration composite = new CompositeConfiguration();
        composite.setListDelimiterHandler(new DefaultListDelimiterHandler(LIST_DELIMITER));

        composite.addConfiguration(systemLayer(systemProperties));
        composite.addConfiguration(environmentLayer(environment));
        Path file = resolveUserFile(systemProperties, environment, userFile, workingDirectory);
        if (file != null) {
            composite.addConfiguration(readFile(file));
            LOG.debug("influence4j configuration file: {}", file.toAbsolutePath());
        }
        composite.addConfiguration(defaultsLayer());
        return composite;
    }

    /** @return the class-path defaults alone (every core key with its documented default) */
    public static PropertiesConfiguration defaults() {
        return defaultsLayer();
    }

    private static AbstractConfiguration systemLayer(Properties systemProperties) {
        Map<String, Object> values = new TreeMap<>();
        if (systemProperties != null) {
            for (String name : systemProperties.stringPropertyNames()) {
                if (name.startsWith(ConfigKeys.PREFIX)) {
                    values.put(name, systemProperties.getProperty(name));
                }
            }
        }
        return mapLayer(values);
    }

    private static AbstractConfiguration environmentLayer(Map<String, String> environment) {
        Map<String, Object> values = new TreeMap<>();
        if (environment != null) {
            for (Map.Entry<String, String> e : environment.entrySet()) {
                String key = ConfigKeys.keyForEnvironmentName(e.getKey());
                if (key != null && e.getValue() != null) {
                    values.put(key, e.getValue());
                }
            }
        }
        return mapLayer(values);
    }

    private static AbstractConfiguration mapLayer(Map<String, Object> values) {
        MapConfiguration layer = new MapConfiguration(values);
        layer.setListDelimiterHandler(new DefaultListDelimiterHandler(LIST_DELIMITER));
        return layer;
    }

    private static Path resolveUserFile(Properties systemProperties, Map<String, String> environment,
                                        Path explicit, Path workingDirectory) {
        if (explicit != null) {
            return requireFile(explicit, "the userFile argument");
        }
        String fromProperty = systemProperties == null ? null
                : systemProperties.getProperty(ConfigKeys.CONFIG_FILE_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return requireFile(Path.of(fromProperty.trim()), "-D" + ConfigKeys.CONFIG_FILE_PROPERTY);
        }
        String fromEnv = environment == null ? null : environment.get(ConfigKeys.CONFIG_FILE_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return requireFile(Path.of(fromEnv.trim()), "environment variable " + ConfigKeys.CONFIG_FILE_ENV);
        }
        if (workingDirectory != null) {
            for (String name : ConfigKeys.DEFAULT_FILE_NAMES) {
                Path candidate = workingDirectory.resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static Path requireFile(Path file, String source) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("influence4j configuration file " + file.toAbsolutePath()
                    + " (named by " + source + ") does not exist or is not a regular file");
        }
        return file;
    }

    private static AbstractConfiguration readFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            if (name.endsWith(".properties")) {
                PropertiesConfiguration props = new PropertiesConfiguration();
                props.setListDelimiterHandler(new DefaultListDelimiterHandler(LIST_DELIMITER));
                new FileHandler(props).load(file.toFile());
                return props;
            }
            if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                YAMLConfiguration yaml = new YAMLConfiguration();
                new FileHandler(yaml).load(file.toFile());
                return flatten(yaml);
            }
        } catch (ConfigurationException e) {
            throw new IllegalArgumentException("influence4j configuration file " + file.toAbsolutePath()
                    + " cannot be read: " + ServiceProviders.describe(e), e);
        }
        throw new IllegalArgumentException("influence4j configuration file " + file.toAbsolutePath()
                + " has an unknown extension; use .properties, .yaml or .yml");
    }

    /**
     * Copies a YAML tree into flat dotted keys, so that nested ({@code influence: {backend: x}}) and
     * dotted ({@code influence.backend: x}) spellings both give {@code influence.backend}.
     */
    private static AbstractConfiguration flatten(YAMLConfiguration yaml) {
        BaseConfiguration flat = new BaseConfiguration();
        flat.setListDelimiterHandler(new DefaultListDelimiterHandler(LIST_DELIMITER));
        for (Iterator<String> it = yaml.getKeys(); it.hasNext(); ) {
            String escaped = it.next();
            String key = escaped.replace("..", ".");
            Object value = yaml.getProperty(escaped);
            if (value == null) {
                flat.addProperty(key, "");
            } else if (value instanceof List<?> list) {
                for (Object element : list) {
                    flat.addProperty(key, element == null ? "" : element.toString());
                }
            } else {
                flat.addProperty(key, value.toString());
            }
        }
        return flat;
    }

    private static PropertiesConfiguration defaultsLayer() {
        PropertiesConfiguration defaults = new PropertiesConfiguration();
        defaults.setListDelimiterHandler(new DefaultListDelimiterHandler(LIST_DELIMITER));
        URL url = InfluenceConfiguration.class.getClassLoader().getResource(ConfigKeys.DEFAULTS_RESOURCE);
        if (url == null) {
            throw new IllegalStateException("class-path resource " + ConfigKeys.DEFAULTS_RESOURCE
                    + " is missing: the influence4j-registry jar is incomplete");
        }
        try (InputStream in = url.openStream()) {
            new FileHandler(defaults).load(in);
        } catch (IOException | ConfigurationException e) {
            throw new IllegalStateException("class-path resource " + ConfigKeys.DEFAULTS_RESOURCE
                    + " cannot be read: " + ServiceProviders.describe(e), e);
        }
        return defaults;
    }
}
