package org.influence4j.api;

import java.util.Locale;

/** Floating-point element type of tensors and models. */
public enum DType {
    /** IEEE 754 single precision (4 bytes). */
    FLOAT32(4, "float32"),
    /** IEEE 754 double precision (8 bytes). */
    FLOAT64(8, "float64");

    private final int bytes;
    private final String jsonName;

    DType(int bytes, String jsonName) {
        this.bytes = bytes;
        this.jsonName = jsonName;
    }

    /** @return bytes per element */
    public int bytes() {
        return bytes;
    }

    /** @return the lowercase name used in JSON specs and configuration ({@code float32}, {@code float64}) */
    public String jsonName() {
        return jsonName;
    }

    /**
     * Parses {@code float32}/{@code float64} (also {@code f32}, {@code f64}, {@code float}, {@code double}).
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static DType parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n) {
            case "float32", "f32", "float" -> {
                return FLOAT32;
            }
            case "float64", "f64", "double" -> {
                return FLOAT64;
            }
            default -> throw new IllegalArgumentException(
                    "dtype: unknown value '" + name + "'; use float32 or float64");
        }
    }
}
