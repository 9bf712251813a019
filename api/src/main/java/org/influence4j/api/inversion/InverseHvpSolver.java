package org.influence4j.api.inversion;

import org.influence4j.api.progress.ProgressListener;

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

    /**
     * A solver like this one that reports its long steps to {@code listener}
     * ({@link ProgressListener}): the iterations of each iterative solve, the passes of a
     * preparation. Solvers that report nothing return {@code this} (the default).
     *
     * @param listener receives the tasks; {@link ProgressListener#NONE} for none
     * @return a solver with the same options that reports to {@code listener}
     */
    default InverseHvpSolver withProgress(ProgressListener listener) {
        return this;
    }
}
