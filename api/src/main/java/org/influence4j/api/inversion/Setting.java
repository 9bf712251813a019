package org.influence4j.api.inversion;

import java.util.Objects;
import java.util.function.Function;

/**
 * The declaration of one setting: its key, type, default and documentation, written once where
 * the setting is used (an options record, a solver factory's {@link InverseHvpSolverFactory#settings()},
 * the core configuration keys). Everything else that states a default — option records' defaults,
 * the class-path defaults file, the README's configuration table — takes it from here or is tested
 * against it.
 *
 * <p>{@link #key()} is the key within its scope: a solver setting's short key (e.g. {@code rtol},
 * configured as {@code influence.inversion.<method>.rtol}), or a full configuration key for core
 * settings. {@link #parse} reads the text a user writes; {@link #read} takes the value from
 * {@link SolverSettings}, a missing or blank value meaning the default. Some settings use a
 * sentinel default whose meaning depends on the problem (e.g. {@code 0} = the number of parameters
 * p); {@link #defaultDescription()} says what it means. Immutable and thread-safe.
 *
 * @param <T> the value type
 */
public final class Setting<T> {

    private final String key;
    private final Class<T> type;
    private final T defaultValue;
    private final String documentation;
    private final Function<String, T> parser;
    private final Function<? super T, String> formatter;
    private final String defaultDescription;

    private Setting(String key, Class<T> type, T defaultValue, String documentation, Function<String, T> parser,
                    Function<? super T, String> formatter, String defaultDescription) {
        if (key == null || key.isBlank() || !key.equals(key.trim())) {
            throw new IllegalArgumentException("setting key: must be non-blank without surrounding blanks, got '"
                    + key + "'");
        }
        if (type == null || defaultValue == null || parser == null || formatter == null) {
            throw new IllegalArgumentException("setting '" + key + "': type, default, parser and formatter must not"
                    + " be null (use an empty string for an empty default)");
        }
        if (documentation == null || documentation.isBlank()) {
            throw new IllegalArgumentException("setting '" + key + "': give a one-line documentation");
        }
        this.key = key;
        this.type = type;
        this.defaultValue = type.cast(defaultValue);
        this.documentation = documentation;
        this.parser = parser;
        this.formatter = formatter;
        this.defaultDescription = defaultDescription;
    }

    /**
     * @param key           the key (see {@link #key()})
     * @param type          the value type
     * @param defaultValue  the value used when none is given
     * @param parser        reads a non-blank text; throws {@link IllegalArgumentException} naming
     *                      the key and the accepted values
     * @param formatter     writes a value as {@code parser} reads it
     * @param documentation one line: what the setting does
     * @return the declaration
     */
    public static <T> Setting<T> of(String key, Class<T> type, T defaultValue, Function<String, T> parser,
                                    Function<? super T, String> formatter, String documentation) {
        return new Setting<>(key, type, defaultValue, documentation, parser, formatter, null);
    }

    /** @return a floating-point setting */
    public static Setting<Double> ofDouble(String key, double defaultValue, String documentation) {
        return of(key, Double.class, defaultValue, text -> SolverSettings.parseDouble(key, text),
                Setting::formatDouble, documentation);
    }

    /** @return an integer setting */
    public static Setting<Integer> ofInt(String key, int defaultValue, String documentation) {
        return of(key, Integer.class, defaultValue, text -> SolverSettings.parseInt(key, text), String::valueOf,
                documentation);
    }

    /** @return a {@code true}/{@code false} setting (also {@code yes}/{@code no}, {@code 1}/{@code 0}) */
    public static Setting<Boolean> ofBoolean(String key, boolean defaultValue, String documentation) {
        return of(key, Boolean.class, defaultValue, text -> SolverSettings.parseBoolean(key, text), String::valueOf,
                documentation);
    }

    /** @return a text setting (the text is trimmed) */
    public static Setting<String> ofString(String key, String defaultValue, String documentation) {
        return of(key, String.class, defaultValue, String::trim, Function.identity(), documentation);
    }

    /**
     * @param description what a sentinel default means, as the documentation shows it (e.g.
     *                    {@code p} for "0 = the number of parameters")
     * @return a copy whose {@link #defaultDescription()} is {@code description}
     */
    public Setting<T> withDefaultDescription(String description) {
        if (description == null || description.isBlank()) {
            throw new IllegalArgumentException("setting '" + key + "': the default description must not be blank");
        }
        return new Setting<>(key, type, defaultValue, documentation, parser, formatter, description);
    }

    /** @return the key within its scope */
    public String key() {
        return key;
    }

    /** @return the value type */
    public Class<T> type() {
        return type;
    }

    /** @return the value used when none is given */
    public T defaultValue() {
        return defaultValue;
    }

    /** @return one line: what the setting does */
    public String documentation() {
        return documentation;
    }

    /** @return the default as a user writes it in a configuration file (empty for an empty text) */
    public String defaultText() {
        return format(defaultValue);
    }

    /** @return what the default means (e.g. {@code p}), or {@link #defaultText()} when it needs no explanation */
    public String defaultDescription() {
        return defaultDescription != null ? defaultDescription : defaultText();
    }

    /**
     * @param text a value as a user writes it; blank means the default
     * @return the value
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    public T parse(String text) {
        if (text == null || text.isBlank()) {
            return defaultValue;
        }
        return type.cast(parser.apply(text.trim()));
    }

    /** @return {@code value} as {@link #parse} reads it */
    public String format(T value) {
        return formatter.apply(type.cast(value));
    }

    /**
     * @param settings solver settings (short keys)
     * @return the value of {@link #key()} in {@code settings}, or the default when it is missing or blank
     * @throws IllegalArgumentException naming the key when the value does not parse
     */
    public T read(SolverSettings settings) {
        return parse(settings == null ? null : settings.asMap().get(key));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Setting<?> s && s.key.equals(key) && s.type.equals(type)
                && s.defaultValue.equals(defaultValue) && s.documentation.equals(documentation)
                && Objects.equals(s.defaultDescription, defaultDescription);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, type, defaultValue);
    }

    @Override
    public String toString() {
        return key + " (" + type.getSimpleName() + ", default " + defaultDescription() + ")";
    }

    /** Writes {@code 1e-7} rather than {@code 1.0E-7}, and whole numbers without a fraction. */
    private static String formatDouble(Double value) {
        double v = value;
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v).replace(".0E", "E").replace('E', 'e');
    }
}
