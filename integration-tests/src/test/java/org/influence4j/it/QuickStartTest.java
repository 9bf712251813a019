package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The README's Java quick start is a whole file that compiles as pasted: it is {@link QuickStart}
 * (less its package line), shown verbatim, and the same file is the main class of
 * {@code examples/consumer}, which CI builds against the installed artifacts.
 */
class QuickStartTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** The file without its {@code package} line and the blank line after it. */
    static String withoutPackage(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertTrue(lines.get(0).startsWith("package ") && lines.get(1).isEmpty(), file + " starts with its package line");
        return lines.subList(2, lines.size()).stream().map(l -> l + "\n").collect(Collectors.joining());
    }

    @Test
    void readmeShowsTheCompiledQuickStartAndTheConsumerExampleRunsIt() throws IOException {
        String quickStart = withoutPackage(ROOT.resolve("integration-tests/src/test/java/org/influence4j/it/QuickStart.java"));
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains("```java\n" + quickStart + "```\n"),
                "README.md must show the quick start exactly as QuickStart.java, less its package line:\n" + quickStart);
        assertEquals(quickStart, withoutPackage(ROOT.resolve(
                "examples/consumer/src/main/java/org/influence4j/examples/consumer/QuickStart.java")),
                "examples/consumer runs the README's quick start");
    }

    @Test
    void quickStartRuns() {
        double[] influences = QuickStart.run();
        assertEquals(3 * 500, influences.length);
        assertTrue(Arrays.stream(influences).allMatch(Double::isFinite));
        assertTrue(Arrays.stream(influences).anyMatch(v -> v > 0) && Arrays.stream(influences).anyMatch(v -> v < 0),
                "a test point has proponents and opponents");
    }
}
