package org.influence4j.calculators.chunked;

/**
 * Whether a parallel calculator refuses to share a model that is not thread-safe between
 * several threads. {@link #DISABLED} is the analogue of pyDVL's
 * {@code DisableClientSingleThreadCheck}: use it only when you know the model is safe (or for
 * debugging); the calculator then logs a warning and shares the model.
 */
public enum ThreadSafetyCheck {
    /** Refuse a model with {@code isThreadSafe() == false} on more than one thread (default). */
    ENFORCED,
    /** Share the model anyway (pyDVL's {@code DisableClientSingleThreadCheck}). */
    DISABLED
}
