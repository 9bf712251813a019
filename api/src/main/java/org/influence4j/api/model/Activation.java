package org.influence4j.api.model;

import java.util.Locale;

/** Elementwise activation functions a {@link ModelSpec} may use. */
public enum Activation {
    /** max(0, z); its second derivative is 0 almost everywhere. */
    RELU,
    /** tanh(z). */
    TANH,
    /** 1 / (1 + e^-z). */
    SIGMOID,
    /** z. */
    IDENTITY,
    /** log(1 + e^z) (PyTorch's Softplus with beta = 1). */
    SOFTPLUS,
    /** z·Φ(z) with the exact normal CDF Φ (PyTorch's {@code GELU()}, approximate = "none"); layer graphs only. */
    GELU;

    /** @return the lowercase JSON name */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the accepted values */
    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.jsonName().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("activation: unknown value '" + name
                + "'; use one of relu, tanh, sigmoid, identity, softplus, gelu");
    }
}
