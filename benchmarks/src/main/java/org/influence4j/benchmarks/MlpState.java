package org.influence4j.benchmarks;

import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ModelSpec;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The state shared by the derivative benchmarks: the {@link Workload} MLP {@code 64 → hidden → 10}
 * (float32) with seeded parameters, one batch of seeded data, and a scope for results; JMH runs
 * the superclass's trial set-up and tear-down for every subclass benchmark.
 */
@State(Scope.Thread)
public abstract class MlpState {

    /** Hidden width: p = 65·hidden + 10·(hidden+1). */
    @Param({"32", "256"})
    public int hidden;

    /** Samples per batch. */
    @Param({"512"})
    public int batch;

    /** The model under test. */
    protected TwiceDifferentiable model;
    /** The batch the derivatives are taken over. */
    protected Batch data;
    /** Owns the benchmark's long-lived tensors; each measured call uses a child scope. */
    protected TensorScope scope;

    /** Builds the model, the data and the scope, then {@link #prepare}. */
    @Setup(Level.Trial)
    public void setUp() {
        Backend backend = Workload.backend();
        ModelSpec spec = Workload.mlp(64, hidden, 10);
        model = backend.createModel(spec, spec.initialParameters(1));
        data = Workload.data(batch, 64, 10, 2);
        scope = backend.newScope();
        prepare(spec.numParameters());
    }

    /** Creates a subclass's extra inputs in {@link #scope}; nothing by default. */
    protected void prepare(int numParameters) {
    }

    /** Frees native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        model.close();
    }
}
