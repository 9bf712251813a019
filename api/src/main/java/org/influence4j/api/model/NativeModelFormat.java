package org.influence4j.api.model;

import org.influence4j.api.BackendCapability;

/**
 * A file format of an engine's own saved models, read by
 * {@link org.influence4j.api.Backend#loadModel}. A backend reads a format exactly when its
 * {@link org.influence4j.api.Backend#capabilities() capabilities} contain {@link #capability()}.
 */
public enum NativeModelFormat {
    /** A TorchScript module saved by {@code torch.jit.save} (read by {@code djl-pytorch}). */
    TORCHSCRIPT(BackendCapability.TORCHSCRIPT, "TorchScript");

    private final BackendCapability capability;
    private final String displayName;

    NativeModelFormat(BackendCapability capability, String displayName) {
        this.capability = capability;
        this.displayName = displayName;
    }

    /** @return the capability a backend reports when it reads this format */
    public BackendCapability capability() {
        return capability;
    }

    /** @return the format's name for messages, e.g. {@code TorchScript} */
    public String displayName() {
        return displayName;
    }
}
