package org.influence4j.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.Checkpoint;

/**
 * TracInCP on an embedding text classifier, the model of {@code benchmarks/scripts/embedding_tracin_captum.py}
 * (Captum's side): a 30,000 × 64 table, 32 token ids a sample drawn from a Zipf law (weight 1/(v+1)),
 * mean over the tokens, Dense 64→32, tanh, Dense 32→10; two checkpoints (θ₀ and 1.1·θ₀, learning rate
 * 0.1), float32. {@code self N [layer,...]} times the self-influence of N samples,
 * {@code influences M N [layer,...]} the influences of the first M on all N; after one untimed call, the
 * median, minimum and maximum seconds of 3 calls and the process's peak RSS. The backend is
 * {@code influence4j.bench.backend} (default: the best available).
 */
public final class EmbeddingTracIn {

    /** The model, as the Python script builds it. */
    static final String MODEL = "{\"format\": 2, \"input\": {\"shape\": [32], \"dtype\": \"int64\"}, \"nodes\": ["
            + "{\"name\": \"emb\", \"op\": \"embedding\", \"inputs\": [\"input\"], \"num_embeddings\": 30000,"
            + " \"embedding_dim\": 64}, {\"name\": \"mean0\", \"op\": \"mean\", \"axis\": 0},"
            + " {\"name\": \"fc1\", \"op\": \"dense\", \"in_features\": 64, \"out_features\": 32, \"bias\": true},"
            + " {\"name\": \"tanh0\", \"op\": \"tanh\"},"
            + " {\"name\": \"fc2\", \"op\": \"dense\", \"in_features\": 32, \"out_features\": 10, \"bias\": true}],"
            + " \"loss\": \"softmax_cross_entropy\", \"dtype\": \"float32\"}";

    private static final int VOCABULARY = 30_000;
    private static final int TOKENS = 32;

    private EmbeddingTracIn() {
    }

    public static void main(String[] args) throws Exception {
        boolean self = args.length >= 2 && args[0].equals("self");
        if (!self && !(args.length >= 3 && args[0].equals("influences"))) {
            System.err.println("usage: EmbeddingTracIn self N [layer,...] | influences M N [layer,...]");
            System.exit(2);
        }
        int n = Integer.parseInt(args[self ? 1 : 2]);
        int m = self ? 0 : Integer.parseInt(args[1]);
        int layersArg = self ? 2 : 3;
        TracInOptions options = args.length > layersArg ? TracInOptions.defaults().withLayers(args[layersArg].split(","))
                : TracInOptions.defaults();
        ModelSpec spec = ModelSpec.fromJson(MODEL);
        Batch train = zipfTokens(n);
        double[] theta = spec.initialParameters(0);
        TracInCheckpoints checkpoints = TracInCheckpoints.load(
                List.of(new Checkpoint(Path.of("c0"), 0.1, 0), new Checkpoint(Path.of("c1"), 0.1, 1)), spec,
                (c, s) -> Arrays.stream(theta).map(v -> v * (1 + 0.1 * c.epoch())).toArray());
        Backend backend = Workload.backend();
        try (TwiceDifferentiable model = backend.createModel(spec, theta)) {
            TracInCP tracin = new TracInCP(model, checkpoints, options);
            double[] seconds = new double[3];
            for (int r = -1; r < seconds.length; r++) {
                long start = System.nanoTime();
                if (self) {
                    tracin.selfInfluence(new InMemoryDataSource(train));
                } else {
                    try (TensorScope scope = backend.newScope()) {
                        tracin.influences(train.slice(0, m), train, scope);
                    }
                }
                if (r >= 0) {
                    seconds[r] = (System.nanoTime() - start) / 1e9;
                }
            }
            Arrays.sort(seconds);
            System.out.printf(Locale.ROOT, "%s embedding TracInCP %s%s: median %.3f s (%.3f-%.3f), peak RSS %d MB%n",
                    backend.name(), self ? "self-influence " + n : "influences " + m + " x " + n,
                    options.layers().isEmpty() ? "" : " " + options.layers(), seconds[1], seconds[0], seconds[2],
                    peakRssMegabytes());
        }
    }

    /** @return n samples of {@link #TOKENS} ids drawn with probability ∝ 1/(v+1), labels i mod 10 */
    static Batch zipfTokens(int n) {
        double[] cdf = new double[VOCABULARY];
        double total = 0;
        for (int v = 0; v < VOCABULARY; v++) {
            total += 1.0 / (v + 1);
            cdf[v] = total;
        }
        Random random = new Random(7);
        double[] x = new double[n * TOKENS];
        for (int i = 0; i < x.length; i++) {
            int v = Arrays.binarySearch(cdf, random.nextDouble() * total);
            x[i] = v < 0 ? -v - 1 : v;
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
        }
        return new Batch(x, TOKENS, y, 1);
    }

    static long peakRssMegabytes() throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
