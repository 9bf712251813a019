package org.influence4j.it;

import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/**
 * A platform team's own solver factory: wraps another factory and counts how often its solvers
 * prepare an inverse, so a test can see that it, and not the built-in, was used.
 */
class CountingSolverFactory implements InverseHvpSolverFactory {

    private final InverseHvpSolverFactory delegate;
    private final String modelType;
    final AtomicInteger prepared = new AtomicInteger();

    CountingSolverFactory(InverseHvpSolverFactory delegate, String modelType) {
        this.delegate = delegate;
        this.modelType = modelType;
    }

    @Override
    public InversionMethod method() {
        return delegate.method();
    }

    @Override
    public String modelType() {
        return modelType;
    }

    @Override
    public InverseHvpSolver create(SolverSettings settings) {
        InverseHvpSolver solver = delegate.create(settings);
        return new InverseHvpSolver() {
            @Override
            public InversionMethod method() {
                return solver.method();
            }

            @Override
            public org.influence4j.api.inversion.InverseHessian prepare(
                    org.influence4j.api.inversion.HessianOperator operator) {
                prepared.incrementAndGet();
                return solver.prepare(operator);
            }
        };
    }
}
