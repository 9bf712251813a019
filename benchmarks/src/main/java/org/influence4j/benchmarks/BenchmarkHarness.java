package org.influence4j.benchmarks;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.internal.DenseLinalg;

/**
 * The benchmark harness: measures the machine's float32 GEMM rate on the backend
 * (1024x1024 matmul, {@code 2·1024³} flop), then times each stage of an influence query on a
 * 64→hidden (tanh)→10 MLP in float32 and prints its throughput, its effective rate under a stated
 * flop model, and the ratio of that rate to the GEMM rate — a machine-independent efficiency.
 *
 * <p>Flop models (Dense layers dominate): per-sample gradients {@code 6·n·p} (forward, backward,
 * outer products); one HVP over n samples {@code 12·n·p}; the influence GEMM {@code 2·m·n·p}.
 *
 * <p>Usage: {@code java -cp ... org.influence4j.benchmarks.BenchmarkHarness [hidden] [n] [repeats]}
 * (defaults 256, 1024, 5); {@code -Dinfluence4j.bench.backend=NAME} picks the backend.
 */
public final class BenchmarkHarness {

    private BenchmarkHarness() {
    }

    /** Runs the harness and prints a table to stdout. */
    public static void main(String[] args) {
        int hidden = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        run(hidden, n, repeats, System.out);
    }

    static void run(int hidden, int n, int repeats, PrintStream out) {
        Backend backend = Workload.backend();
        ModelSpec spec = Workload.mlp(64, hidden, 10);
        int p = spec.numParameters();
        int m = 64;
        Batch data = Workload.data(n, 64, 10, 2);
        out.printf(Locale.ROOT, "backend %s (%s); MLP 64-%d-10 float32, p = %d, n = %d, m = %d, best of %d%n",
                backend.name(), backend.version(), hidden, p, n, m, repeats);
        try (TensorScope scope = backend.newScope();
             TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(1))) {
            Tensor a = scope.fromArray(Workload.random(1024 * 1024, 3), DType.FLOAT32, 1024, 1024);
            double gemmSeconds = best(repeats, () -> {
                try (Tensor c = a.matmul(a)) {
                    return c.shape()[0];
                }
            });
            double gemmRate = 2.0 * 1024 * 1024 * 1024 / gemmSeconds;
            out.printf(Locale.ROOT, "%-28s %10s %18s %12s %10s%n", "stage", "seconds", "throughput", "GFLOP/s",
                    "of GEMM");
            row(out, "float32 GEMM 1024^3", gemmSeconds, "", gemmRate, gemmRate);

            double grads = best(repeats, () -> {
                try (TensorScope s = scope.newChild()) {
                    return model.perSampleGradients(data, s).shape()[0];
                }
            });
            row(out, "per-sample gradients", grads, String.format(Locale.ROOT, "%.0f samples/s", n / grads),
                    6.0 * n * p / grads, gemmRate);

            Tensor v = scope.fromArray(Workload.random(p, 4), DType.FLOAT32, p);
            double hvp = best(repeats, () -> {
                try (TensorScope s = scope.newChild()) {
                    return model.hvp(data, v, s).shape()[0];
                }
            });
            row(out, "HVP (one vector)", hvp, String.format(Locale.ROOT, "%.1f HVP/s", 1 / hvp), 12.0 * n * p / hvp,
                    gemmRate);

            Tensor z = scope.fromArray(Workload.random(m * p, 5), DType.FLOAT32, m, p);
            Tensor g = scope.fromArray(Workload.random(n * p, 6), DType.FLOAT32, n, p);
            // as the calculators compute it (DenseLinalg.timesTransposed: (G Zᵀ)ᵀ when m < n)
            double gemm = best(repeats, () -> {
                try (Tensor block = DenseLinalg.timesTransposed(z, g)) {
                    return block.shape()[0];
                }
            });
            row(out, "influence GEMM Z·Gᵀ", gemm, String.format(Locale.ROOT, "%.3g entries/s", (double) m * n / gemm),
                    2.0 * m * n * p / gemm, gemmRate);

        }
    }

    private static void row(PrintStream out, String stage, double seconds, String throughput, double rate,
                            double gemmRate) {
        out.printf(Locale.ROOT, "%-28s %10.4f %18s %12.2f %9.1f%%%n", stage, seconds, throughput, rate / 1e9,
                100 * rate / gemmRate);
    }

    private static double best(int repeats, Supplier<Object> work) {
        work.get();
        double best = Double.POSITIVE_INFINITY;
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            work.get();
            best = Math.min(best, (System.nanoTime() - start) / 1e9);
        }
        return best;
    }
}
