package org.influence4j.calculators.inversion;

/**
 * Receives the progress of an iterative solver after every iteration (in the spirit of Commons
 * Math's {@code IterationListener}). Called on the solving thread; implementations must be quick
 * and must not throw.
 */
@FunctionalInterface
public interface IterationListener {

    /**
     * @param iteration           iterations done so far (1-based)
     * @param activeRightHandSides right-hand sides still iterating after this iteration
     * @param totalRightHandSides  right-hand sides of this solve
     * @param maxRelativeResidual  the largest {@code ‖r_i‖/‖b_i‖} among the still active ones (0 if none)
     */
    void iterationDone(int iteration, int activeRightHandSides, int totalRightHandSides, double maxRelativeResidual);
}
