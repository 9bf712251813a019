package org.influence4j.it;

import java.util.concurrent.atomic.AtomicInteger;
import org.influence4j.calculators.inversion.DirectSolverFactory;

/**
 * A solver shipped in a separate jar with its own {@code META-INF/services} entry (the jar is
 * built by {@link GuiceWiringTest}); it is specialised for the {@code djl-pytorch} model type and
 * counts its uses in a static counter visible to the test.
 */
public final class TestJarSolverFactory extends CountingSolverFactory {

    static final AtomicInteger USES = new AtomicInteger();

    /** ServiceLoader constructor. */
    public TestJarSolverFactory() {
        super(new DirectSolverFactory(), "djl-pytorch");
    }

    @Override
    public org.influence4j.api.inversion.InverseHvpSolver create(org.influence4j.api.inversion.SolverSettings settings) {
        USES.incrementAndGet();
        return super.create(settings);
    }
}
