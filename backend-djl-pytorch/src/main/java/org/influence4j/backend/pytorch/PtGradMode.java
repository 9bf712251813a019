package org.influence4j.backend.pytorch;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Sets libtorch's (thread-local) autograd mode for a try-with-resources block and restores the
 * previous mode on close.
 */
final class PtGradMode implements AutoCloseable {

    private final boolean previous;

    private PtGradMode(boolean enabled) {
        this.previous = JniUtils.isGradMode();
        JniUtils.setGradMode(enabled);
    }

    /** Records operations on tensors that require gradients. */
    static PtGradMode enabled() {
        return new PtGradMode(true);
    }

    /** Records nothing (plain evaluation). */
    static PtGradMode disabled() {
        return new PtGradMode(false);
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
