package org.influence4j.cli;

import java.io.PrintWriter;
import java.util.EnumSet;
import java.util.Set;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.api.inversion.InversionException.Reason;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the {@code influence4j} command. Exit codes: 0 success (also {@code --help},
 * {@code help <command>} and {@code --version}), 1 failure with a one-line message on stderr (the
 * stack trace only with {@code --verbose}), 2 usage error, 3 numerically unreliable result: an
 * {@link InversionException} whose {@link InversionException#reason() reason} is one of
 * {@link #UNRELIABLE} (an iterative solve that missed its tolerance, a numerically singular or an
 * indefinite matrix, a diverging iteration) anywhere in the cause chain; the computation stopped before
 * its result was written, and the one line names the cause and what to change (λ, iterations, the
 * curvature, or the explicit opt-in). A non-finite Hessian ({@code NON_FINITE}) stays exit code 1:
 * the data or the parameters are broken. Help, version and the exit-code list are inherited by every
 * subcommand, so {@code <command> --help} is answered before required options are checked.
 */
@Command(name = "influence4j", scope = CommandLine.ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Which training examples made the model predict what it predicts.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (also --help, help <command> and --version)",
            "1:failure: a one-line message on stderr (the stack trace with --verbose)",
            "2:usage error: unknown option or command, missing required option, a value that does not"
                    + " parse",
            "3:numerically unreliable result, nothing written: a solve did not converge, or the curvature is"
                    + " singular or indefinite (one line on stderr says what to change: λ, iterations, --curvature"
                    + " gauss-newton or empirical-fisher, or --allow-unconverged)"},
        subcommands = {DemoCommand.class, TrainCommand.class, InfluencesCommand.class,
                SelfInfluenceCommand.class, TopKCommand.class, TracInCommand.class, ValidateCommand.class, CompareCommand.class,
                BackendsCommand.class, CommandLine.HelpCommand.class})
public final class Influence4jCommand implements Runnable {

    /** Exit code of a numerically unreliable result (see {@link #UNRELIABLE}). */
    static final int UNRELIABLE_EXIT_CODE = 3;

    /** The reasons of an {@link InversionException} that exit with {@link #UNRELIABLE_EXIT_CODE}. */
    static final Set<Reason> UNRELIABLE = EnumSet.of(Reason.NOT_CONVERGED, Reason.SINGULAR,
            Reason.NEGATIVE_CURVATURE, Reason.DIVERGENCE);

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print stack traces of errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command line without exiting.
     *
     * @return 0 on success, 1 on failure, 2 on a usage error, 3 on a numerically unreliable result
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(out, err).execute(args);
    }

    /** The command line with every subcommand, printing to {@code out} and {@code err}. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Influence4jCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean verbose = parseResult.matchedOption("--verbose") != null
                    || parseResult.subcommands().stream().anyMatch(p -> p.matchedOption("--verbose") != null);
            if (verbose) {
                e.printStackTrace(commandLine.getErr());
            }
            InversionException unreliable = unreliable(e);
            Exception shown = unreliable != null ? unreliable : e;
            String message = shown.getMessage() == null ? shown.getClass().getSimpleName() : shown.getMessage();
            commandLine.getErr().println("influence4j: " + message.lines().findFirst().orElse(message));
            return unreliable != null ? UNRELIABLE_EXIT_CODE : 1;
        });
        return cli;
    }

    /**
     * @return the first {@link InversionException} with a reason in {@link #UNRELIABLE} among {@code e}
     *     and its causes, or null
     */
    private static InversionException unreliable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof InversionException ie && UNRELIABLE.contains(ie.reason())) {
                return ie;
            }
        }
        return null;
    }
}
