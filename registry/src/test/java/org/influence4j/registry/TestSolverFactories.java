package org.influence4j.registry;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.inversion.InverseHvpSolverFactory;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.inversion.SolverSettings;

/** Solver factories for the registry tests: they record the settings they were asked to use. */
public final class TestSolverFactories {

    private TestSolverFactories() {
    }

    /** A factory of a given key that records every {@link #create} call. */
    static class Recording implements InverseHvpSolverFactory {
        final String modelType;
        final InversionMethod method;
        final List<SolverSettings> calls = new CopyOnWriteArrayList<>();

        Recording(String modelType, InversionMethod method) {
            this.modelType = modelType;
            this.method = method;
        }

        @Override
        public InversionMethod method() {
            return method;
        }

        @Override
        public String modelType() {
            return modelType;
        }

        @Override
        public InverseHvpSolver create(SolverSettings settings) {
            calls.add(settings);
            return new UnpreparedSolver(method);
        }

        @Override
        public String toString() {
            return "Recording(" + modelType + ", " + method + ")@" + Integer.toHexString(hashCode());
        }
    }

    /** Listed in the test META-INF/services file: EKFAC for the test backend only. */
    public static final class ServiceLoadedEkfac extends Recording {
        public ServiceLoadedEkfac() {
            super(TestBackendProviders.WORKING, InversionMethod.EKFAC);
        }
    }

    /** A solver that the registry tests create but never prepare (no tensors exist here). */
    record UnpreparedSolver(InversionMethod method) implements InverseHvpSolver {
        @Override
        public InverseHessian prepare(HessianOperator operator) {
            throw new UnsupportedOperationException("registry test solver: prepare is not part of these tests");
        }
    }
}
