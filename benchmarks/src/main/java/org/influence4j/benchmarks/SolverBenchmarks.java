package org.influence4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.inversion.DirectSolver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The inverse-HVP solvers on {@code H + λI} (λ = 0.1) of a 64→16→10 MLP (p = 1,210) over 1,024
 * samples: direct (full Hessian + Cholesky, then one solve) and CG (8 right-hand sides).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dai.djl.offline=true"})
public class SolverBenchmarks {

    private TwiceDifferentiable model;
    private DataHessianOperator operator;
    private TensorScope scope;
    private Tensor rhs;

    /** Builds the operator and right-hand sides. */
    @Setup(Level.Trial)
    public void setUp() {
        Backend backend = Workload.backend();
        ModelSpec spec = Workload.mlp(64, 16, 10);
        model = backend.createModel(spec, spec.initialParameters(1));
        operator = new DataHessianOperator(model, new InMemoryDataSource(Workload.data(1024, 64, 10, 2)), 0.1, 1024);
        scope = backend.newScope();
        rhs = scope.fromArray(Workload.random(8 * spec.numParameters(), 5), DType.FLOAT32, 8, spec.numParameters());
    }

    /** Frees native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        scope.close();
        model.close();
    }

    /** @return a checksum */
    @Benchmark
    public double directPrepareAndSolve() {
        try (InverseHessian inverse = new DirectSolver().prepare(operator); TensorScope s = scope.newChild()) {
            return inverse.solve(rhs, s).x().shape()[0];
        }
    }

    /** @return a checksum */
    @Benchmark
    public double cgSolve8() {
        try (InverseHessian inverse = new ConjugateGradientSolver(CgOptions.defaults(), null).prepare(operator);
             TensorScope s = scope.newChild()) {
            return inverse.solve(rhs, s).x().shape()[0];
        }
    }
}
