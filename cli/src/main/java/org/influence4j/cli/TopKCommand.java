package org.influence4j.cli;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j top-k}: for every test point its k strongest proponents (largest positive
 * influence) and opponents (most negative), as CSV rows
 * {@code test,kind,rank,train,influence} ({@code kind} = proponent | opponent, rank from 1).
 */
@Command(name = "top-k", description = "The k strongest proponents and opponents of every test point (CSV).")
final class TopKCommand implements Callable<Integer> {

    @Mixin
    ModelInput input;

    @Mixin
    CommonOptions common;

    @Option(names = "--test", required = true, description = "Test data CSV.")
    Path test;

    @Option(names = "--lambda", description = "Hessian regularization λ (default: influence.hessian.regularization).")
    Double lambda;

    @Option(names = "-k", defaultValue = "5", description = "Proponents and opponents per test point (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = {"-o", "--output"}, required = true, description = "Output CSV file.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (k < 1) {
            throw new IllegalArgumentException("-k: must be >= 1, got " + k);
        }
        if (!output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) {
            throw new IllegalArgumentException("--output " + output + ": top-k writes CSV; use a .csv file name");
        }
        InfluenceQuery.Data data = InfluenceQuery.read(input, test);
        CommonOptions.Session session = common.session(lambda);
        int n = data.train().size();
        int m = data.test().size();
        int kk = Math.min(k, n);
        double[] values;
        try (TwiceDifferentiable model = input.open(session.backend(), data.spec(), data.train().numFeatures())) {
            values = InfluenceQuery.influences(session, model, data.train(), data.test(), spec.commandLine().getErr());
        }
        AtomicFiles.write(output, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("test,kind,rank,train,influence\n");
            for (int t = 0; t < m; t++) {
                double[] row = java.util.Arrays.copyOfRange(values, t * n, (t + 1) * n);
                int[] ranked = DigitsDemo.rankDescending(row);
                for (int r = 0; r < kk; r++) {
                    w.write(t + ",proponent," + (r + 1) + "," + ranked[r] + "," + row[ranked[r]] + "\n");
                }
                for (int r = 0; r < kk; r++) {
                    int i = ranked[n - 1 - r];
                    w.write(t + ",opponent," + (r + 1) + "," + i + "," + row[i] + "\n");
                }
            }
            w.flush();
        });
        spec.commandLine().getOut().printf("wrote the top %d proponents and opponents of %d test points to %s%n", kk, m,
                output);
        return 0;
    }
}
