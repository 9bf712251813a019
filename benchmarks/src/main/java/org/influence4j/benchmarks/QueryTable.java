package org.influence4j.benchmarks;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.ArnoldiOptions;
import org.influence4j.calculators.inversion.ArnoldiSolver;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.io.data.BundledDatasets;

/**
 * The query table of the performance issue, in process: the digits protocol (features / 16, the
 * first 1,437 samples to train, the next 360 to test; MLP 64-32 (tanh)-10, p = 2,410, float32;
 * SGD lr 0.1, batch 32, 30 epochs, a checkpoint every 5 epochs: 6; λ = 0.1) and each query of the
 * table, timed after a warm-up of three seconds (at least one run) as the median (and range) of 3
 * runs, printed next to the reference seconds of Captum and pyDVL and the issue's goal ratio. A sample of a query shorter
 * than a quarter second is the mean of as many runs as fill a quarter second. The reference
 * seconds are the issue's, or, with {@code -Dinfluence4j.bench.reference=FILE}, those that
 * {@code benchmarks/scripts/reference_table.py --out FILE} measured on this machine
 * ({@link ReferenceSeconds}; {@code benchmarks/scripts/side-by-side.sh} runs both).
 *
 * <p>Usage: {@code java -cp "benchmarks/target/classes:benchmarks/target/lib/*"
 * org.influence4j.benchmarks.QueryTable [runs [filter]]}: {@code filter} keeps only the rows whose
 * query contains it (ignoring case, e.g. {@code exact} for the Direct rows; the Fashion-MNIST CNN
 * rows, {@link FashionQueryTable}, run when the filter is empty or contains {@code cnn}, the digits
 * rows when it does not contain {@code cnn});
 * {@code -Dinfluence4j.bench.backend=NAME} picks the backend. Time on an otherwise idle machine
 * (see the README's Benchmarks section).
 */
public final class QueryTable {

    static final int TRAIN = 1437;
    static final int TEST = 360;
    static final double LAMBDA = 0.1;

    private QueryTable() {
    }

    /**
     * One row: the query, the reference seconds (NaN where the issue gives none) and tool, the goal
     * ratio and the timed work.
     */
    record Row(String query, double reference, String tool, double goal, Callable<Object> work) {
    }

    /** Runs every row and prints the table to stdout. */
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Optional<ReferenceSeconds> references;
        try {
            references = ReferenceSeconds.fromSystemProperty();
        } catch (IllegalArgumentException e) {
            System.err.println("QueryTable: " + e.getMessage());
            System.exit(2);
            return;
        }
        run(runs, args.length > 1 ? args[1] : "", references, System.out);
    }

    /**
     * @param filter     only the rows whose query contains it (ignoring case) are timed; {@code ""} for all
     * @param references reference seconds measured on this machine, or empty for the issue's
     */
    static void run(int runs, String filter, Optional<ReferenceSeconds> references, PrintStream out)
            throws Exception {
        String wanted = filter.toLowerCase(Locale.ROOT);
        Backend backend = Workload.backend();
        if (!wanted.contains("cnn")) {
            digits(backend, runs, wanted, references, out);
        }
        if (FashionQueryTable.available() && (wanted.isEmpty() || wanted.contains("cnn"))) {
            FashionQueryTable.run(backend, runs, wanted, references, out);
        }
    }

    /** The digits protocol's rows whose query contains {@code wanted}. */
    private static void digits(Backend backend, int runs, String wanted, Optional<ReferenceSeconds> references,
                               PrintStream out) throws Exception {
        ModelSpec spec = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT32).build();
        Batch digits = BundledDatasets.digits();
        double[] x = digits.x().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] /= 16.0;
        }
        Batch all = new Batch(x, 64, digits.y(), 1);
        Batch train = all.slice(0, TRAIN);
        Batch test = all.slice(TRAIN, TRAIN + TEST);
        InMemoryDataSource trainSource = new InMemoryDataSource(train);
        Path dir = Files.createTempDirectory("influence4j-query-table");
        try (TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(0))) {
            new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.1), 30, 32, 1).withCheckpoints(dir, 5))
                    .train(model, trainSource);
            TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT);
            TracInCP cp = new TracInCP(model, checkpoints, TracInOptions.defaults());
            TracInCPFast fast = new TracInCPFast(model, checkpoints, 512, false);
            InfluenceOptions options = new InfluenceOptions(LAMBDA, 512);
            try (InverseHessianInfluence direct = new InverseHessianInfluence(model, new DirectSolver(), options);
                 InverseHessianInfluence arnoldi = new InverseHessianInfluence(model,
                         new ArnoldiSolver(ArnoldiOptions.ofRank(50)), options);
                 EkfacInfluence ekfac = new EkfacInfluence(model, EkfacOptions.of(LAMBDA, false))) {
                direct.fit(trainSource);
                arnoldi.fit(trainSource);
                ekfac.fit(trainSource);
                List<Row> rows = List.of(
                        new Row("TracInCP self-influence", 0.064, "Captum", 3, () -> cp.selfInfluence(trainSource)),
                        new Row("TracInCP influences 360 x 1,437", 0.151, "Captum", 3,
                                () -> influences(cp, test, train, backend)),
                        new Row("TracInCP top-5 proponents", 0.160, "Captum", 3,
                                () -> cp.topK(test, trainSource, 5, TopKOrder.PROPONENTS)),
                        new Row("TracInCPFast self-influence", 0.026, "Captum", 3,
                                () -> fast.selfInfluence(trainSource)),
                        new Row("TracInCPFast influences", 0.042, "Captum", 3,
                                () -> influences(fast, test, train, backend)),
                        new Row("TracInCPFast top-5", 0.047, "Captum", 3,
                                () -> fast.topK(test, trainSource, 5, TopKOrder.PROPONENTS)),
                        new Row("exact fit (Direct)", 5.88, "Captum", 3, () -> {
                            try (InverseHessianInfluence fresh = new InverseHessianInfluence(model, new DirectSolver(),
                                    options)) {
                                return fresh.fit(trainSource).isFitted();
                            }
                        }),
                        new Row("exact influences 360 x 1,437 (fitted)", 0.249, "Captum", 3,
                                () -> influences(attribution(model, direct), test, train, backend)),
                        new Row("block CG influences (fit + scores)", 2.94, "pyDVL", 2, () -> {
                            // the default rtol of a float32 operator, 1e-5 (pyDVL stops on the recursive residual
                            // at 1e-7, which a float32 true residual does not reach)
                            try (InverseHessianInfluence cg = new InverseHessianInfluence(model,
                                    new ConjugateGradientSolver(CgOptions.defaults().withBlock(true)), options)) {
                                cg.fit(trainSource);
                                return influences(attribution(model, cg), test, train, backend);
                            }
                        }),
                        new Row("Arnoldi rank 50 fit", 1.35, "pyDVL", 2, () -> {
                            try (InverseHessianInfluence fresh = new InverseHessianInfluence(model,
                                    new ArnoldiSolver(ArnoldiOptions.ofRank(50)), options)) {
                                return fresh.fit(trainSource).isFitted();
                            }
                        }),
                        new Row("Arnoldi rank 50 influences (fitted)", 0.012, "pyDVL", 2,
                                () -> influences(attribution(model, arnoldi), test, train, backend)),
                        // pyDVL estimates G from one backward pass of Σ_c √p_c log p_c: the same estimate
                        // (EkfacCurvature.PYDVL); the exact Fisher (the default) has no pyDVL counterpart
                        new Row("EK-FAC fit", 0.008, "pyDVL", 2, () -> ekfacFit(model, trainSource,
                                EkfacCurvature.PYDVL)),
                        new Row("EK-FAC fit (exact Fisher)", Double.NaN, "", 0, () -> ekfacFit(model, trainSource,
                                EkfacCurvature.FISHER)),
                        new Row("EK-FAC influences (fitted)", 0.510, "pyDVL", 2,
                                () -> influences(attribution(model, ekfac), test, train, backend)));
                out.printf(Locale.ROOT, "backend %s (%s); digits protocol, p = %d, %d train x %d test, float32, "
                        + "median of %d after a warm-up%n", backend.name(), backend.version(), spec.numParameters(),
                        TRAIN, TEST, runs);
                print(rows, runs, wanted, references, out);
            }
        } finally {
            FileTrees.delete(dir);
        }
    }

    /** A fresh EK-FAC fit without the diagonal refit, as in pyDVL's {@code update_diagonal=False}. */
    private static boolean ekfacFit(TwiceDifferentiable model, InMemoryDataSource train, EkfacCurvature curvature) {
        EkfacOptions options = EkfacOptions.of(LAMBDA, false).withCurvature(curvature);
        try (EkfacInfluence fresh = new EkfacInfluence(model, options)) {
            return fresh.fit(train).isFitted();
        }
    }

    /**
     * Times the rows whose query contains {@code wanted} (lower case) and prints them as a Markdown
     * table, with the ratio to {@code references}' seconds of the same query where given (a query they
     * lack gets no ratio), else to the issue's reference seconds.
     */
    static void print(List<Row> rows, int runs, String wanted, Optional<ReferenceSeconds> references,
                      PrintStream out) throws Exception {
        references.ifPresent(r -> out.println("reference seconds: measured on this machine (" + r.source() + ")"));
        out.printf(Locale.ROOT, "| %-38s | %13s | %-22s | %7s | %5s |%n", "query", "reference", "influence4j s",
                "ratio", "goal");
        out.println("|---|---|---|---|---|");
        for (Row row : rows) {
            if (!row.query().toLowerCase(Locale.ROOT).contains(wanted)) {
                continue;
            }
            double reference = row.reference();
            String tool = row.tool();
            if (references.isPresent()) {
                Optional<ReferenceSeconds.Measured> measured = references.get().of(row.query());
                reference = measured.map(ReferenceSeconds.Measured::seconds).orElse(Double.NaN);
                tool = measured.map(ReferenceSeconds.Measured::tool).orElse("");
            }
            double[] seconds = time(row.work(), runs);
            double median = seconds[seconds.length / 2];
            if (Double.isNaN(reference)) {
                out.printf(Locale.ROOT, "| %-38s | %13s | %.4f (%.4f-%.4f) | %7s | %5s |%n", row.query(), "-",
                        median, seconds[0], seconds[seconds.length - 1], "-", "-");
            } else {
                out.printf(Locale.ROOT, "| %-38s | %6.3f %-6s | %.4f (%.4f-%.4f) | %6.2fx | %4.0fx |%n", row.query(),
                        reference, tool, median, seconds[0], seconds[seconds.length - 1], reference / median,
                        row.goal());
            }
            out.flush();
        }
    }

    static TrainingDataAttribution attribution(TwiceDifferentiable model, InfluenceFunctionModel fitted) {
        return new InfluenceFunctionAttribution(model, fitted, 512);
    }

    /**
     * The influences of {@code test} on {@code train} as a backend tensor, as Captum and pyDVL return a
     * torch tensor: its first row is read (which waits for the result on an asynchronous engine), not
     * the whole matrix, whose copy to the heap the references do not make (0.6 ms of a digits row).
     *
     * @return the first score, a checksum
     */
    static double influences(TrainingDataAttribution method, Batch test, Batch train, Backend backend) {
        try (TensorScope scope = backend.newScope(); Tensor scores = method.influences(test, train, scope);
             Tensor first = scores.rows(0, 1)) {
            return first.toDoubleArray()[0];
        }
    }

    /** A run of a query that takes less than this is repeated within one sample, which takes the mean. */
    static final double MIN_SAMPLE_SECONDS = 0.25;

    /**
     * A query is run, untimed, until this much time has passed (at least once) before its samples:
     * the JVM compiles the calculators' and the engine bindings' Java code while the first seconds of
     * calls run, and on 2 cores its compiler threads take the second core from libtorch's: the first
     * 1.7 s of TracInCPFast self-influence calls on the digits ran 2-3x slower than the later ones,
     * TracInCP's first 4 s. The warm-up is time-based as JMH's is; reference_table.py applies the
     * same rule to the Python side.
     */
    static final double WARM_UP_SECONDS = 3.0;

    /**
     * @return the seconds of {@code runs} timed samples after a warm-up of {@link #WARM_UP_SECONDS}
     *     (at least one call), sorted; a query faster than {@link #MIN_SAMPLE_SECONDS} (by the last
     *     warm-up call) is run enough times per sample to fill that, and the sample is the mean of
     *     those runs, so that one slow run on a noisy machine does not decide a millisecond row
     */
    private static double[] time(Callable<Object> work, int runs) throws Exception {
        long warmUpStart = System.nanoTime();
        double once;
        do {
            long call = System.nanoTime();
            work.call();
            once = (System.nanoTime() - call) / 1e9;
        } while ((System.nanoTime() - warmUpStart) / 1e9 < WARM_UP_SECONDS);
        int repeats = (int) Math.max(1, Math.min(1000, Math.ceil(MIN_SAMPLE_SECONDS / Math.max(once, 1e-6))));
        double[] seconds = new double[runs];
        for (int r = 0; r < runs; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < repeats; i++) {
                work.call();
            }
            seconds[r] = (System.nanoTime() - start) / 1e9 / repeats;
        }
        Arrays.sort(seconds);
        return seconds;
    }
}
