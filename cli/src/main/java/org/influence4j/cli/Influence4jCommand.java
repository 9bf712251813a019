package org.influence4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the {@code influence4j} command. Exit codes: 0 success (also {@code --help},
 * {@code help <command>} and {@code --version}), 1 failure with a one-line message on stderr (the
 * stack trace only with {@code --verbose}), 2 usage error. Help, version and the exit-code list are
 * inherited by every subcommand, so {@code <command> --help} is answered before required options are
 * checked.
 */
@Command(name = "influence4j", scope = CommandLine.ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Which training examples made the model predict what it predicts.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (also --help, help <command> and --version)",
            "1:failure: a one-line message on stderr (the stack trace with --verbose)",
            "2:usage error: unknown option or command, missing required option, a value that does not"
                    + " parse"},
        subcommands = {DemoCommand.class, TrainCommand.class, InfluencesCommand.class,
                SelfInfluenceCommand.class, TopKCommand.class, TracInCommand.class, ValidateCommand.class, CompareCommand.class,
                BackendsCommand.class, CommandLine.HelpCommand.class})
public final class Influence4jCommand implements Runnable {

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
     * @return 0 on success, 1 on failure, 2 on a usage error
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
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            commandLine.getErr().println("influence4j: " + message.lines().findFirst().orElse(message));
            return 1;
        });
        return cli;
    }
}
