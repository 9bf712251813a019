package org.influence4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Entry point of the {@code influence4j} command. Usage errors exit with 2, failures with 1 and a
 * one-line message on stderr (the stack trace only with {@code --verbose}).
 */
@Command(name = "influence4j", mixinStandardHelpOptions = true, version = "influence4j 0.1.0",
        description = "Which training examples made the model predict what it predicts.",
        subcommands = {DemoCommand.class, TrainCommand.class, InfluencesCommand.class,
                SelfInfluenceCommand.class, TopKCommand.class, TracInCommand.class, ValidateCommand.class, CompareCommand.class,
                BackendsCommand.class})
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
        return cli.execute(args);
    }
}
