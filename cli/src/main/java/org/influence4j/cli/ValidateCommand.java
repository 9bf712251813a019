package org.influence4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.model.Layer;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.NewtonOptions;
import org.influence4j.calculators.training.Objective;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.validation.LeaveOneOut;
import org.influence4j.calculators.validation.LinearDatamodelingScore;
import org.influence4j.calculators.validation.Retrainer;
import org.influence4j.calculators.validation.Retrainers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j validate}: how far the scores of the chosen method — the influence function
 * with {@code --method}/{@code --curvature}/{@code --lambda}, or TracInCP over {@code --checkpoints} — can be trusted
 * on the user's own model and data, by actual retraining. {@code --check} picks the checks:
 * <ul>
 *   <li>{@code loo} (default; convex models: one Dense layer, i.e. linear, logistic or softmax
 *       regression): for each of the first {@code --test-points} test points, the {@code -k}
 *       training points with the largest |score| are removed one at a time, the model is retrained
 *       with Newton's method and the change of the test loss is compared with the prediction
 *       (Pearson r, {@link LeaveOneOut}); the model must be at the optimum of
 *       {@code mean loss + (l2/2)‖θ‖²};</li>
 *   <li>{@code lds} (any model): the linear datamodeling score ({@link LinearDatamodelingScore}) over
 *       all test points — {@code --subsets} random subsets of {@code --fraction} of the training
 *       points ({@code --seed}), the model retrained on each (Newton's method from the given
 *       parameters for convex models, {@link Retrainers#newton}; otherwise the minibatch recipe of
 *       {@link TrainingOptions} from the initialisation of {@code --train-seed},
 *       {@link Retrainers#minibatch}), and per test point the Spearman correlation between the
 *       summed scores of each subset and the negated test loss after retraining on it;</li>
 *   <li>{@code both}.</li>
 * </ul>
 * The retraining objective's L2 penalty is {@code --l2} (default λ).
 */
@Command(name = "validate", description = "How far the scores can be trusted: leave-one-out retraining (--check loo,"
        + " convex models) and/or the linear datamodeling score (--check lds, any model).")
final class ValidateCommand implements Callable<Integer> {

    /** Which checks run. */
    enum Check { loo, lds, both }

    @Mixin
    ModelInput input;

    @Mixin
    InversionOptions common;

    @Option(names = "--test", required = true, description = "Test data: a CSV file, or array features as for"
            + " --train with --test-labels.")
    String test;

    @Option(names = "--test-labels", description = "Labels of array --test features, as --train-labels.")
    String testLabels;

    @Option(names = "--lambda", required = true, description = "λ: the regularization added to the curvature, also"
            + " the L2 penalty the model was trained with unless --l2 is given.")
    double lambda;

    @Option(names = "--check", defaultValue = "loo", description = "loo (leave-one-out, convex models), lds (linear"
            + " datamodeling score, any model) or both (default: ${DEFAULT-VALUE}).")
    Check check;

    @Option(names = "--checkpoints", description = "Validate TracInCP over these checkpoints (all parameters; a folder"
            + " from `train --checkpoints`) instead of the influence function.")
    Path checkpoints;

    @Option(names = "--l2", description = "L2 penalty of the training objective and of every retraining (default: λ).")
    Double l2;

    @Option(names = "--test-points", defaultValue = "3", description = "loo: test points to check (default: ${DEFAULT-VALUE}).")
    int testPoints;

    @Option(names = "-k", defaultValue = "20", description = "loo: training points removed per test point (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--subsets", defaultValue = "50", description = "lds: retrainings on random subsets, >= 3 (default: ${DEFAULT-VALUE}).")
    int subsets;

    @Option(names = "--fraction", defaultValue = "0.5", description = "lds: share of the training points in each subset, in (0, 1) (default: ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--seed", defaultValue = "0", description = "lds: seed of the subsets (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    TrainingOptions training;

    @Option(names = "--train-seed", defaultValue = "0", description = "lds, non-convex models: seed of the"
            + " initialisation and shuffling of every retraining, as `train --seed` (default: ${DEFAULT-VALUE}).")
    long trainSeed;

    @Option(names = {"-o", "--output"}, description = "lds: write the per-test LDS values [m] (.npy or .csv; NaN"
            + " where undefined).")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean loo = check != Check.lds;
        boolean lds = check != Check.loo;
        if (output != null) {
            if (!lds) {
                throw new IllegalArgumentException("--output: only --check lds or both writes per-test LDS values");
            }
            Output.requireKnownExtension(output);
        }
        double penalty = l2 == null ? lambda : l2;
        if (!(penalty >= 0) || Double.isInfinite(penalty)) {
            throw new IllegalArgumentException("--l2: must be finite and >= 0, got " + penalty);
        }
        InfluenceQuery.Data data = InfluenceQuery.read(input, test, testLabels);
        ModelSpec modelSpec = data.spec();
        if (modelSpec == null) {
            throw new IllegalArgumentException("--torchscript: validate retrains the model from its description"
                    + " (layers, parameter layout, convexity), which an opaque TorchScript module does not give;"
                    + " export it with torch.onnx.export and give --onnx (or describe it with --spec)");
        }
        long dense = modelSpec.layers().stream().filter(l -> l instanceof Layer.Dense).count();
        boolean convex = dense == 1;
        int n = data.train().size();
        int m = Math.min(testPoints, data.test().size());
        if (loo) {
            if (!convex) {
                throw new IllegalArgumentException("--spec: leave-one-out retrains by Newton's method and needs a"
                        + " convex model (exactly one dense layer); this spec " + (modelSpec.isGraph()
                        ? "is a layer graph" : "has " + dense) + "; use --check lds");
            }
            if (m < 1 || k < 2 || k > n) {
                throw new IllegalArgumentException("--test-points must be >= 1 and -k in [2, n]");
            }
        }
        LinearDatamodelingScore score = null;
        if (lds) {
            try {
                score = new LinearDatamodelingScore(new LinearDatamodelingScore.Options(subsets, fraction, seed));
                score.subsets(n);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--" + e.getMessage(), e);
            }
            if (!convex && !training.isMinibatch()) {
                throw new IllegalArgumentException("--optimizer: this spec is not convex, so the LDS retrains it in"
                        + " minibatches as `train` did; use adam or sgd");
            }
        }
        BackendOptions.Session session = common.session(lambda);
        TracInCheckpoints loaded = checkpoints == null ? null : TracInCommand.loadCheckpoints(checkpoints, modelSpec, false);
        String methodName = loaded == null
                ? "influence function (" + session.settings().method().configName() + ", lambda = " + lambda + ")"
                : "TracInCP (" + loaded.size() + " checkpoints)";
        Provenance record = RunRecords.data(RunRecords.of("validate", session, input, modelSpec), "test", test, testLabels)
                .with("l2", penalty).with("lds.subsets", subsets).with("lds.fraction", fraction).with("lds.seed", seed)
                .with("lds.training", training.describe(trainSeed));
        record = loaded == null ? RunRecords.inversion(record, session.settings())
                : RunRecords.checkpoints(record, loaded);
        try (TwiceDifferentiable model = InfluenceQuery.open(input, session, data)) {
            if (convex) {
                printOptimality(model, data.train(), penalty, out);
            }
            Batch scored = lds ? data.test() : data.test().slice(0, m);
            InfluenceQuery.Computed<double[]> computed = scores(session, model, loaded, data.train(), scored, err,
                    record);
            double[] values = computed.value();
            if (loo) {
                leaveOneOut(model, data.train(), scored, values, m, penalty, methodName, out, err);
            }
            if (lds) {
                linearDatamodelingScore(score, model, data.train(), scored, values, convex, penalty, methodName, out,
                        err, computed.record());
            }
        }
        return 0;
    }

    /** @return scores {@code [m, n]} of the chosen method, positive = proponent */
    private static InfluenceQuery.Computed<double[]> scores(BackendOptions.Session session, TwiceDifferentiable model,
                                                            TracInCheckpoints loaded, Batch train, Batch tests,
                                                            PrintWriter err, Provenance record) {
        if (loaded == null) {
            return InfluenceQuery.influences(session, model, train, tests, err, record);
        }
        try (TensorScope scope = session.backend().newScope();
             Progress bar = Progress.start("tracin cp (" + loaded.size() + " checkpoints)", 1, err);
             Tensor s = new TracInCP(model, loaded, TracInOptions.defaults()
                     .withBatchSize(session.settings().batchSize())).influences(tests, train, scope)) {
            return new InfluenceQuery.Computed<>(s.toDoubleArray(), record);
        }
    }

    private static void printOptimality(TwiceDifferentiable model, Batch train, double penalty, PrintWriter out) {
        double gradientNorm = new Objective(model, new InMemoryDataSource(train), ObjectiveOptions.ofL2(penalty))
                .valueAndGradient(model.parameters()).gradientNorm();
        out.printf("|grad (mean loss + l2/2 |theta|^2)| = %.3g%s%n", gradientNorm,
                gradientNorm > 1e-5 ? "  (not at the optimum: retrain with `train --optimizer newton --l2 "
                        + penalty + "` for a meaningful check)" : "");
    }

    private void leaveOneOut(TwiceDifferentiable model, Batch train, Batch tests, double[] values, int m,
                             double penalty, String methodName, PrintWriter out, PrintWriter err) {
        int n = train.size();
        LeaveOneOut retraining = new LeaveOneOut(ObjectiveOptions.ofL2(penalty));
        double min = Double.POSITIVE_INFINITY;
        try (Progress bar = Progress.start("leave-one-out retraining", m, err)) {
            for (int t = 0; t < m; t++) {
                double[] row = Arrays.copyOfRange(values, t * n, (t + 1) * n);
                LeaveOneOut.Comparison c = retraining.compare(model, train, tests.slice(t, t + 1), row, k);
                out.printf("test point %d: Pearson r = %.4f between predicted and actual test-loss change over the"
                        + " %d most influential removals%n", t, c.pearson(), k);
                min = Math.min(min, c.pearson());
                bar.step(1);
            }
        }
        out.printf("verdict (%s): %s (smallest r = %.4f)%n", methodName, min > 0.9
                ? "influences match retraining closely"
                : min > 0.5 ? "influences rank roughly right; magnitudes are approximate"
                : "influences do not match retraining; check lambda and convergence", min);
    }

    private void linearDatamodelingScore(LinearDatamodelingScore score, TwiceDifferentiable model, Batch train,
                                         Batch tests, double[] values, boolean convex, double penalty,
                                         String methodName, PrintWriter out, PrintWriter err, Provenance record)
            throws Exception {
        int n = train.size();
        int m = tests.size();
        Retrainer retrainer = convex
                ? Retrainers.newton(model, train, tests, ObjectiveOptions.ofL2(penalty), newtonOptions(model))
                : Retrainers.minibatch(model, train, tests, training.minibatchOptions(trainSeed, penalty),
                        model.spec().initialParameters(trainSeed));
        String how = convex ? "newton" : training.optimizer.name();
        double[][] actual;
        try (Progress bar = Progress.start("LDS retraining (" + how + ")", subsets, err)) {
            actual = score.retrain(n, subset -> {
                double[] losses = retrainer.testLosses(subset);
                bar.step(1);
                return losses;
            });
        }
        LinearDatamodelingScore.Result r = score.score(values, m, n, actual);
        out.printf("LDS = %.4f for %s over %d test points (%d retrainings by %s on %s%% subsets, seed %d)%n", r.lds(),
                methodName, m, subsets, how, trimmed(100 * fraction), seed);
        double[] defined = Arrays.stream(r.perTest()).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (defined.length > 0) {
            out.printf("per-test LDS: min %.4f, median %.4f, max %.4f; undefined (constant values): %d of %d%n",
                    defined[0], median(defined), defined[defined.length - 1], r.undefined(), m);
        } else {
            out.printf("per-test LDS: undefined for all %d test points (constant predicted or actual values)%n", m);
        }
        out.println(ldsVerdict(r.lds(), subsets));
        if (output != null) {
            Output.write(output, r.perTest(), new long[] {m}, DType.FLOAT64, record);
            out.printf("wrote per-test LDS [%d] to %s%n", m, output);
        }
    }

    /**
     * The Newton settings of the LDS retrainings: gradient norm below 1e-10 in float64, 1e-5 in
     * float32, at most 50 steps from the given parameters.
     */
    static NewtonOptions newtonOptions(TwiceDifferentiable model) {
        return new NewtonOptions(model.spec().dtype() == DType.FLOAT64 ? 1e-10 : 1e-5, 50);
    }

    /** @return one line on how far an LDS can be trusted */
    static String ldsVerdict(double lds, int subsets) {
        String level = Double.isNaN(lds)
                ? "none: every test point had constant values; use more --subsets or another --fraction"
                : lds >= 0.5 ? "good: the scores predict how removing training data changes the test losses"
                : lds >= 0.2 ? "moderate: the rankings are informative on average, single scores are noisy"
                : lds > 0 ? "weak: the scores barely predict retraining; check lambda, convergence or the checkpoints"
                : "none: the scores do not predict retraining";
        return String.format("trust: %s (each per-test value rests on %d retrainings, sampling noise about +-%.2f)",
                level, subsets, 1 / Math.sqrt(subsets - 1));
    }

    private static double median(double[] sorted) {
        int h = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
    }

    private static String trimmed(double percent) {
        return percent == Math.rint(percent) ? Long.toString((long) percent) : Double.toString(percent);
    }
}
