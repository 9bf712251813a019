package org.influence4j.api.inversion;

/**
 * A method of applying the inverse of a {@link HessianOperator}. Solvers are immutable and
 * configured by an options record at construction; {@link #prepare} does the expensive,
 * right-hand-side independent work (factorisations, sketches, preconditioners) once.
 */
public interface InverseHvpSolver {

    /** @return the method this solver implements */
    InversionMethod method();

    /**
     * Prepares the inverse of {@code operator}.
     *
     * @throws InversionException if the operator cannot be inverted by this method (e.g. it is not
     *     positive definite); the message says what to change
     */
    InverseHessian prepare(HessianOperator operator);
}
