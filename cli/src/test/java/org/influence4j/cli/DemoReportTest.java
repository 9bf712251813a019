package org.influence4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the digits demo once in-process, as {@code bin/influence4j demo} does, and checks what it
 * prints and the HTML report it writes: every picture decodes as a PNG of the expected size, and
 * headless Chromium loads the page with every image.
 */
class DemoReportTest {

    @TempDir
    static Path folder;

    static Influence4jCommandTest.Run run;
    static Path report;

    @BeforeAll
    static void runDemo() {
        report = folder.resolve("report");
        run = Influence4jCommandTest.run("demo", "--report", report.toString());
    }

    @Test
    void demoFindsFlippedLabels() {
        assertEquals(0, run.exitCode(), run.err());
        Matcher recall = Pattern.compile("recall of flipped labels at 10% inspected = ([0-9.]+)").matcher(run.out());
        assertTrue(recall.find(), run.out());
        assertTrue(Double.parseDouble(recall.group(1)) >= 0.5, run.out());
        Matcher explained = Pattern.compile("test image \\d+: label \\d, predicted \\d").matcher(run.out());
        int count = 0;
        while (explained.find()) {
            count++;
        }
        assertEquals(3, count, run.out());
        assertTrue(Files.isRegularFile(report.resolve("index.html")));
    }

    @Test
    void everyPictureIsADecodablePng() throws Exception {
        List<String> pictures = DemoReport.pictures(report.resolve("index.html"));
        // 3 test images, 3 x (5 proponents + 5 opponents), recall curve, histogram
        assertEquals(3 + 30 + 2, pictures.size(), pictures.toString());
        for (String name : pictures) {
            byte[] bytes = Files.readAllBytes(report.resolve(name));
            assertEquals((byte) 0x89, bytes[0], name);
            assertEquals("PNG", new String(bytes, 1, 3, StandardCharsets.US_ASCII), name);
            BufferedImage image = ImageIO.read(report.resolve(name).toFile());
            assertNotNull(image, name);
            if (name.startsWith("test-")) {
                assertEquals(64, image.getWidth(), name);
                assertEquals(64, image.getHeight(), name);
                int min = 255;
                int max = 0;
                for (int y = 0; y < 64; y++) {
                    for (int x = 0; x < 64; x++) {
                        int gray = image.getRGB(x, y) & 0xff;
                        min = Math.min(min, gray);
                        max = Math.max(max, gray);
                    }
                }
                assertTrue(max - min > 100, name + " shows no digit (gray range " + min + ".." + max + ")");
            } else {
                assertEquals(480, image.getWidth(), name);
                assertEquals(360, image.getHeight(), name);
            }
        }
    }

    @Test
    void chromiumLoadsEveryImage() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        assumeTrue(Files.isExecutable(chromium), "Debian chromium is not installed (.ci/run installs it)");
        List<String> pictures = DemoReport.pictures(report.resolve("index.html"));
        String page = Files.readString(report.resolve("index.html"));
        String probe = "<script>window.addEventListener('load', function () {"
                + " var imgs = Array.prototype.slice.call(document.images);"
                + " var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;"
                + " var d = document.createElement('div'); d.id = 'image-check';"
                + " d.textContent = 'IMAGES-LOADED ' + ok + ' OF ' + imgs.length; document.body.appendChild(d); });"
                + "</script></body>";
        Path check = report.resolve("check.html");
        Files.writeString(check, page.replace("</body>", probe));
        Path profile = Files.createTempDirectory(folder, "chromium-profile");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--allow-file-access-from-files",
                "--virtual-time-budget=10000", "--dump-dom", check.toUri().toString())
                .redirectError(folder.resolve("chromium.err").toFile()).start();
        byte[] dom = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        String text = new String(dom, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("IMAGES-LOADED (\\d+) OF (\\d+)").matcher(text);
        assertTrue(m.find(), "no marker in the DOM dumped by chromium: " + text.substring(0, Math.min(300, text.length()))
                + " / " + Files.readString(folder.resolve("chromium.err")));
        assertEquals(pictures.size(), Integer.parseInt(m.group(2)));
        assertEquals(pictures.size(), Integer.parseInt(m.group(1)), "images that failed to load in chromium");
    }
}
