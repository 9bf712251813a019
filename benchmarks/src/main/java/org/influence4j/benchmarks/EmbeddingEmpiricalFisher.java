package org.influence4j.benchmarks;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;

/**
 * The empirical Fisher (pyDVL's "Gauss-Newton" operator) on the embedding text classifier of
 * {@link EmbeddingTracIn} (a 30,000 × 64 table, 32 Zipf-distributed ids a sample, θ from
 * {@code initialParameters(0)}, float32), the model of {@code benchmarks/scripts/embedding_ef_pydvl.py}
 * (pyDVL's side). {@code cg M N} times a block CG fit on N samples (λ = 0.01, batches of 256) and
 * the influences of the first M on all N, as pyDVL's {@code CgInfluence(GAUSS_NEWTON,
 * solve_simultaneously=True)}; {@code product K N} times one product of the N samples' empirical
 * Fisher with K random directions. After one untimed call, the median, minimum and maximum seconds
 * of 3 calls and the process's peak RSS. The backend is {@code influence4j.bench.backend} (default:
 * the best available).
 */
public final class EmbeddingEmpiricalFisher {

    private EmbeddingEmpiricalFisher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !(args[0].equals("cg") || args[0].equals("product"))) {
            System.err.println("usage: EmbeddingEmpiricalFisher cg M N | product K N");
            System.exit(2);
        }
        boolean cg = args[0].equals("cg");
        int m = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        ModelSpec spec = ModelSpec.fromJson(EmbeddingTracIn.MODEL);
        Batch train = EmbeddingTracIn.zipfTokens(n);
        Backend backend = Workload.backend();
        String detail = "";
        double[] seconds = new double[3];
        try (TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(0));
             TensorScope scope = backend.newScope()) {
            Tensor directions = cg ? null : scope.fromArray(new Random(3).doubles((long) m * model.numParameters())
                    .map(v -> v - 0.5).toArray(), DType.FLOAT32, m, model.numParameters());
            for (int r = -1; r < seconds.length; r++) {
                long start = System.nanoTime();
                if (cg) {
                    detail = influences(model, train, m, backend);
                } else {
                    try (TensorScope step = scope.newChild()) {
                        model.empiricalFisherBlock(train, directions, step);
                    }
                }
                if (r >= 0) {
                    seconds[r] = (System.nanoTime() - start) / 1e9;
                }
            }
        }
        Arrays.sort(seconds);
        String query = cg ? "block CG influences " + m + " x " + n
                : "product of " + m + " directions, " + n + " samples";
        System.out.printf(Locale.ROOT, "%s embedding empirical Fisher %s: median %.3f s (%.3f-%.3f)%s,"
                + " peak RSS %d MB%n", backend.name(), query, seconds[1], seconds[0], seconds[2], detail,
                EmbeddingTracIn.peakRssMegabytes());
    }

    /** @return the solve's iterations, after a fit and the influences of the first m samples on all */
    private static String influences(TwiceDifferentiable model, Batch train, int m, Backend backend) {
        InfluenceOptions options = new InfluenceOptions(0.01, 256, Curvature.EMPIRICAL_FISHER);
        try (InverseHessianInfluence cg = new InverseHessianInfluence(model,
                new ConjugateGradientSolver(CgOptions.defaults().withBlock(true)), options)) {
            cg.fit(new InMemoryDataSource(train));
            QueryTable.influences(new InfluenceFunctionAttribution(model, cg, 256), train.slice(0, m), train, backend);
            return cg.lastSolverInfo().map(i -> ", " + i.iterations() + " iterations").orElse("");
        }
    }
}
