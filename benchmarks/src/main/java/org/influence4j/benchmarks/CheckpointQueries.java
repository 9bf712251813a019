package org.influence4j.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;

/**
 * TracIn self-influence of the Fashion-MNIST CNN ({@link FashionQueryTable}'s data, model and
 * training) in a process that only loads checkpoints and queries, as the command line and a
 * service do, unlike {@link QueryTable}, whose process trains first. {@code write DIR} trains the
 * CNN and writes its 4 checkpoints to DIR (a new folder); {@code time DIR cp|fast [runs [layer,...]]} loads them
 * and prints the median, minimum and maximum milliseconds of {@code runs} (default 10)
 * self-influence queries over the 2,000 images after 5 untimed ones (cp: restricted to the named
 * parameters when given, Captum's {@code layers}). Compare settings in separate
 * processes, alternating, with {@code perf stat -e page-faults}: e.g. the djl-pytorch backend's
 * {@code -Dinfluence4j.backend.retainFreedMemory=false} against its default.
 */
public final class CheckpointQueries {

    private CheckpointQueries() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !(args[0].equals("write") || args[0].equals("time") && args.length >= 3)) {
            System.err.println("usage: CheckpointQueries write DIR | time DIR cp|fast [runs [layer,...]]");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        ModelSpec spec = ModelSpec.fromJson(CnnBenchmarks.CNN);
        InMemoryDataSource train = new InMemoryDataSource(FashionQueryTable.images("train", FashionQueryTable.TRAIN));
        Backend backend = Workload.backend();
        try (TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(5))) {
            if (args[0].equals("write")) {
                Files.createDirectory(dir);
                FashionQueryTable.trainWithCheckpoints(model, train, dir);
                return;
            }
            TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT);
            TrainingDataAttribution method = switch (args[2]) {
                case "cp" -> new TracInCP(model, checkpoints, args.length > 4
                        ? TracInOptions.defaults().withLayers(args[4].split(",")) : TracInOptions.defaults());
                case "fast" -> new TracInCPFast(model, checkpoints, TracInOptions.DEFAULT_BATCH_SIZE, false);
                default -> throw new IllegalArgumentException("method: cp or fast, not " + args[2]);
            };
            int runs = args.length > 3 ? Integer.parseInt(args[3]) : 10;
            double[] ms = new double[runs];
            for (int r = -5; r < runs; r++) {
                long start = System.nanoTime();
                method.selfInfluence(train);
                if (r >= 0) {
                    ms[r] = (System.nanoTime() - start) / 1e6;
                }
            }
            Arrays.sort(ms);
            System.out.printf(Locale.ROOT, "cnn %s%s self-influence 2,000: median %.1f ms (%.1f-%.1f), %d runs%n",
                    args[2], args.length > 4 ? " [" + args[4] + "]" : "", ms[runs / 2], ms[0], ms[runs - 1], runs);
        }
    }
}
