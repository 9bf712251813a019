package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Runs the command line in-process, as a user would, and reads what it prints. */
class Influence4jCommandTest {

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Influence4jCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void breastCancerDemoFindsFlippedLabelsAndChecksItselfAgainstRetraining() {
        Run run = run("demo", "--data", "breast-cancer");
        assertEquals(0, run.exitCode(), run.err());
        Matcher recall = Pattern.compile("recall of flipped labels at 10% inspected = ([0-9.]+)").matcher(run.out());
        assertTrue(recall.find(), run.out());
        assertTrue(Double.parseDouble(recall.group(1)) >= 0.5, run.out());
        Matcher r = Pattern.compile("Pearson r = ([-0-9.]+)").matcher(run.out());
        int checks = 0;
        while (r.find()) {
            checks++;
            assertTrue(Double.parseDouble(r.group(1)) > 0.9, run.out());
        }
        assertEquals(3, checks, run.out());
    }

    @Test
    void backendsListsPyTorch() {
        Run run = run("backends");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("djl-pytorch") && run.out().contains("EXACT_HVP"), run.out());
    }

    @Test
    void usageErrorsExitWithTwoAndFailuresWithOneLine() {
        Run usage = run("demo", "--no-such-option");
        assertEquals(2, usage.exitCode());
        Run failure = run("demo", "--data", "breast-cancer", "--method", "magic");
        assertEquals(1, failure.exitCode());
        assertEquals(1, failure.err().strip().lines().count(), failure.err());
        assertTrue(failure.err().contains("inversion method") && failure.err().contains("magic"), failure.err());
    }
}
