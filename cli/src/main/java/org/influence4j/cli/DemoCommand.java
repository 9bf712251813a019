package org.influence4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j demo}: the main demo on the bundled digits ({@link DigitsDemo}, HTML report by
 * {@link DemoReport}), or the small breast-cancer demo with {@code --data breast-cancer}.
 */
@Command(name = "demo", description = "Find flipped labels by self-influence, explain test predictions on bundled"
        + " digits and write an HTML report (--data breast-cancer: the small logistic-regression demo).")
final class DemoCommand implements Callable<Integer> {

    /** The bundled data sets the demo runs on. */
    enum Data { digits, breast_cancer }

    @Option(names = "--data", defaultValue = "digits", converter = DataConverter.class,
            description = "digits (default) or breast-cancer.")
    Data data;

    @Option(names = "--lambda", description = "Hessian regularization λ (default: 0.1 on digits, where the Adam-trained"
            + " MLP is not at an exact minimum; 0.01 on breast-cancer, also its L2 penalty).")
    Double lambda;

    @Option(names = "--l2", defaultValue = "0.001", description = "L2 penalty of training on digits (default: ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the split, the label flips and training.")
    long seed;

    @Option(names = "--epochs", defaultValue = "20", description = "Adam epochs on digits (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--explain", defaultValue = "3", description = "Test points to explain (default: ${DEFAULT-VALUE}).")
    int explain;

    @Option(names = "--top", defaultValue = "5", description = "Proponents and opponents shown per test point.")
    int top;

    @Option(names = "--flip", defaultValue = "0.1", description = "Fraction of training labels flipped (default: ${DEFAULT-VALUE}).")
    double flipFraction;

    @Option(names = "--report", defaultValue = "influence4j-report",
            description = "Folder of the HTML report (digits; default: ${DEFAULT-VALUE}).")
    Path report;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (data == Data.breast_cancer) {
            double l = lambda == null ? 0.01 : lambda;
            new BreastCancerDemo(common.session(l), l, seed, explain, top, flipFraction).run(out);
            return 0;
        }
        double l = lambda == null ? 0.1 : lambda;
        if (common.batchSize == null) {
            common.batchSize = DigitsDemo.TRAIN;
        }
        BackendOptions.Session session = common.session(l);
        DigitsDemo.Options options = new DigitsDemo.Options(l, l2, seed, epochs, explain, top, flipFraction);
        DigitsDemo.Result result = DigitsDemo.run(session.backend(), session.influenceModels(), options, out);
        DigitsDemo.print(result, out);
        Path index = DemoReport.write(result, report);
        out.printf("%nreport: %s%n", index.toAbsolutePath());
        out.printf("done in %.1f s: recall of flipped labels at 10%% inspected = %.2f%n", result.seconds(),
                result.recallAt(0.10));
        return 0;
    }

    /** Accepts {@code digits} and {@code breast-cancer}. */
    static final class DataConverter implements picocli.CommandLine.ITypeConverter<Data> {
        @Override
        public Data convert(String value) {
            return switch (value) {
                case "digits" -> Data.digits;
                case "breast-cancer", "breast_cancer" -> Data.breast_cancer;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "unknown data set '" + value + "'; use digits or breast-cancer");
            };
        }
    }
}
