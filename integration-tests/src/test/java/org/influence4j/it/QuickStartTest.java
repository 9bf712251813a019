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

/** The README's Java quick start compiles (it is {@link QuickStart}), runs, and is shown verbatim. */
class QuickStartTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void readmeShowsTheCompiledQuickStart() throws IOException {
        List<String> source = Files.readAllLines(
                ROOT.resolve("integration-tests/src/test/java/org/influence4j/it/QuickStart.java"), StandardCharsets.UTF_8);
        int begin = source.indexOf(source.stream().filter(l -> l.contains("quickstart:begin")).findFirst().orElseThrow());
        int end = source.indexOf(source.stream().filter(l -> l.contains("quickstart:end")).findFirst().orElseThrow());
        String indent = "        ";
        String block = source.subList(begin + 1, end).stream()
                .map(l -> l.startsWith(indent) ? l.substring(indent.length()) : l.strip())
                .collect(Collectors.joining("\n"));
        String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains(block), "README.md must contain the quick start exactly as in QuickStart.java:\n" + block);
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
