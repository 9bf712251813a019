package org.influence4j.api.inversion;

/**
 * A solver could not produce trustworthy solutions. {@link #reason()} says what kind of failure it
 * was, so that callers can react without reading the message (e.g. raise λ on
 * {@link Reason#NEGATIVE_CURVATURE}); the message says what happened and what to change (usually:
 * raise the Hessian regularization λ).
 */
public class InversionException extends RuntimeException {

    private static final long serialVersionUID = 2L;

    /** What went wrong, as a type. */
    public enum Reason {
        /**
         * The operator is not positive definite where the method looked: a curvature
         * {@code pᵀAp ≤ 0}, an eigenvalue {@code θ + λ ≤ 0}, a sketch that is not positive
         * semi-definite. The parameters are not at a minimum; raise λ or use Gauss-Newton curvature.
         */
        NEGATIVE_CURVATURE,
        /** An iteration diverged (a residual or iterate grew without bound or became non-finite). */
        DIVERGENCE,
        /** An iteration or decomposition stopped without converging. */
        NOT_CONVERGED,
        /** The operator (or a factor of it) is numerically singular: zero eigenvalues or pivots. */
        SINGULAR,
        /** The operator has non-finite entries (NaN or infinity in the Hessian or the data). */
        NON_FINITE,
        /** None of the above (also the reason given by the message-only constructors). */
        OTHER
    }

    private final Reason reason;

    /**
     * @param reason  what kind of failure it was
     * @param message what happened and what to change
     * @throws IllegalArgumentException if {@code reason} is null
     */
    public InversionException(Reason reason, String message) {
        this(reason, message, null);
    }

    /**
     * @param reason  what kind of failure it was
     * @param message what happened and what to change
     * @param cause   the underlying failure, or null
     * @throws IllegalArgumentException if {@code reason} is null
     */
    public InversionException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        if (reason == null) {
            throw new IllegalArgumentException("reason must not be null; use Reason.OTHER");
        }
        this.reason = reason;
    }

    /**
     * @param message what happened and what to change
     * @deprecated give a {@link Reason}: {@link #InversionException(Reason, String)}; this one uses {@link Reason#OTHER}
     */
    @Deprecated
    public InversionException(String message) {
        this(Reason.OTHER, message, null);
    }

    /**
     * @param message what happened and what to change
     * @deprecated give a {@link Reason}: {@link #InversionException(Reason, String, Throwable)}; this one uses
     *     {@link Reason#OTHER}
     */
    @Deprecated
    public InversionException(String message, Throwable cause) {
        this(Reason.OTHER, message, cause);
    }

    /** @return what kind of failure it was; never null */
    public Reason reason() {
        return reason;
    }
}
