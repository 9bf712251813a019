package org.influence4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Layer;
import org.influence4j.calculators.training.ObjectiveOptions;
import org.influence4j.calculators.validation.LeaveOneOut;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j validate}: how far the influence scores of a <em>convex</em> model (one Dense
 * layer: linear, logistic or softmax regression) can be trusted, by actual leave-one-out
 * retraining ({@link LeaveOneOut}): for each of the first test points, the k training points
 * with the largest |influence| are removed one at a time, the model is retrained with Newton's
 * method, and the change of the test loss is compared with the prediction {@code influence / n}
 * (Pearson r). The model must be at the optimum of {@code mean loss + (l2/2)‖θ‖²} with l2 = λ.
 */
@Command(name = "validate", description = "Leave-one-out check of the influences of a convex model (Pearson r per test point).")
final class ValidateCommand implements Callable<Integer> {

    @Mixin
    ModelInput input;

    @Mixin
    CommonOptions common;

    @Option(names = "--test", required = true, description = "Test data CSV.")
    Path test;

    @Option(names = "--lambda", required = true, description = "λ: the L2 penalty the model was trained with, also the Hessian regularization.")
    double lambda;

    @Option(names = "--test-points", defaultValue = "3", description = "Test points to check (default: ${DEFAULT-VALUE}).")
    int testPoints;

    @Option(names = "-k", defaultValue = "20", description = "Training points removed per test point (default: ${DEFAULT-VALUE}).")
    int k;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        InfluenceQuery.Data data = InfluenceQuery.read(input, test);
        if (data.spec() == null) {
            throw new IllegalArgumentException("--torchscript: validate retrains by Newton's method and needs a convex"
                    + " model given by --spec");
        }
        long dense = data.spec().layers().stream().filter(l -> l instanceof Layer.Dense).count();
        if (dense != 1) {
            throw new IllegalArgumentException("--spec: validate retrains by Newton's method and needs a convex model"
                    + " (exactly one dense layer); this spec has " + dense);
        }
        int m = Math.min(testPoints, data.test().size());
        if (m < 1 || k < 2 || k > data.train().size()) {
            throw new IllegalArgumentException("--test-points must be >= 1 and -k in [2, n]");
        }
        BackendOptions.Session session = common.session(lambda);
        ObjectiveOptions objective = ObjectiveOptions.ofL2(lambda);
        try (TwiceDifferentiable model = input.open(session.backend(), data.spec(), data.train().numFeatures());
             TensorScope scope = session.backend().newScope()) {
            double gradientNorm;
            try (Tensor g = model.gradient(data.train(), scope)) {
                double[] grad = g.toDoubleArray();
                double[] theta = model.parameters();
                double sum = 0;
                for (int i = 0; i < grad.length; i++) {
                    double v = grad[i] + lambda * theta[i];
                    sum += v * v;
                }
                gradientNorm = Math.sqrt(sum);
            }
            out.printf("|grad (mean loss + lambda/2 |theta|^2)| = %.3g%s%n", gradientNorm,
                    gradientNorm > 1e-5 ? "  (not at the optimum: retrain with `train --optimizer newton --l2 "
                            + lambda + "` for a meaningful check)" : "");
            Batch tests = data.test().slice(0, m);
            double[] values = InfluenceQuery.influences(session, model, data.train(), tests, spec.commandLine().getErr());
            int n = data.train().size();
            LeaveOneOut loo = new LeaveOneOut(objective);
            double min = Double.POSITIVE_INFINITY;
            try (Progress bar = Progress.start("leave-one-out retraining", m, spec.commandLine().getErr())) {
                for (int t = 0; t < m; t++) {
                    double[] row = Arrays.copyOfRange(values, t * n, (t + 1) * n);
                    LeaveOneOut.Comparison c = loo.compare(model, data.train(), tests.slice(t, t + 1), row, k);
                    out.printf("test point %d: Pearson r = %.4f between predicted and actual test-loss change over the"
                            + " %d most influential removals%n", t, c.pearson(), k);
                    min = Math.min(min, c.pearson());
                    bar.step(1);
                }
            }
            out.printf("verdict: %s (smallest r = %.4f)%n", min > 0.9 ? "influences match retraining closely"
                    : min > 0.5 ? "influences rank roughly right; magnitudes are approximate"
                    : "influences do not match retraining; check lambda and convergence", min);
        }
        return 0;
    }
}
