package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import picocli.CommandLine;

/**
 * Every command of the real command line answers {@code <command> --help} and
 * {@code help <command>} with its usage and exit code 0, before any required option is checked.
 */
class HelpConventionsTest {

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Influence4jCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    /** The qualified names ({@code a b}) of every command below {@code cli}, depth first. */
    static void collect(CommandLine cli, String prefix, List<String> names) {
        for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
            String name = prefix.isEmpty() ? sub.getKey() : prefix + " " + sub.getKey();
            names.add(name);
            collect(sub.getValue(), name, names);
        }
    }

    @Test
    void everyCommandPrintsItsUsageOnHelpAndExitsZero() {
        CommandLine root = Influence4jCommand.commandLine(new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter()));
        List<String> names = new ArrayList<>();
        collect(root, "", names);
        assertTrue(names.containsAll(List.of("demo", "train", "influences", "self-influence", "top-k", "tracin",
                "validate", "compare", "backends", "help")), "subcommands found: " + names);

        List<Executable> checks = new ArrayList<>();
        checks.add(() -> {
            Run help = run("--help");
            assertEquals(0, help.exitCode(), "influence4j --help: " + help.err());
            assertTrue(help.out().startsWith("Usage: influence4j "), help.out());
        });
        for (String name : names) {
            List<String> helpOption = new ArrayList<>(List.of(name.split(" ")));
            helpOption.add("--help");
            List<String> helpCommand = new ArrayList<>(List.of("help"));
            helpCommand.addAll(List.of(name.split(" ")));
            for (List<String> args : List.of(helpOption, helpCommand)) {
                checks.add(() -> {
                    Run help = run(args.toArray(String[]::new));
                    String shown = "influence4j " + String.join(" ", args);
                    assertEquals(0, help.exitCode(), shown + " exit code; stderr: " + help.err());
                    assertTrue(help.out().lines().anyMatch(l -> l.startsWith("Usage: influence4j " + name + " ")),
                            shown + " printed:\n" + help.out());
                    assertEquals("", help.err(), shown + " stderr");
                });
            }
        }
        assertAll(checks);
    }

    @Test
    void versionComesFromTheBuildAndExitCodesAreDocumented() {
        Run version = run("--version");
        assertEquals(0, version.exitCode(), version.err());
        assertTrue(version.out().strip().matches("influence4j \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), version.out());

        Run help = run("--help");
        assertTrue(help.out().contains("Exit codes:"), help.out());
        for (String code : List.of("0", "1", "2")) {
            assertTrue(help.out().lines().anyMatch(l -> l.strip().startsWith(code + " ")),
                    "exit code " + code + " documented:\n" + help.out());
        }
    }
}
