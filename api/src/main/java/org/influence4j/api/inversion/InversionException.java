package org.influence4j.api.inversion;

/**
 * A solver could not produce trustworthy solutions (the operator is not positive definite, an
 * iteration diverged, a factorisation failed). The message says what happened and what to change
 * (usually: raise the Hessian regularization λ).
 */
public class InversionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** @param message what happened and what to change */
    public InversionException(String message) {
        super(message);
    }

    /** @param message what happened and what to change */
    public InversionException(String message, Throwable cause) {
        super(message, cause);
    }
}
