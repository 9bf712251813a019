package org.influence4j.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.influence4j.api.internal.AtomicFiles;

/**
 * Writes the demo's HTML report into a folder: {@code index.html} and PNG pictures beside it
 * (every {@code <img>} of the page refers to a file in the same folder):
 * <ul>
 *   <li>{@code test-T.png} and {@code test-T-pro-K.png} / {@code test-T-con-K.png}: the 8x8 digit
 *       images of each explained test point and of its proponents and opponents, scaled 8x;</li>
 *   <li>{@code recall.png}: share of flipped labels found against the share of training images
 *       inspected in self-influence order, with the random-inspection diagonal;</li>
 *   <li>{@code self-influence.png}: histogram of log10 self-influence, flipped and clean stacked.</li>
 * </ul>
 * Pictures are drawn with java.awt in headless mode and written with {@link ImageIO}.
 */
final class DemoReport {

    private static final int SCALE = 8;

    private DemoReport() {
    }

    /**
     * @return the written {@code index.html}
     * @throws UncheckedIOException naming the folder when a file cannot be written
     */
    static Path write(DigitsDemo.Result r, Path folder) {
        System.setProperty("java.awt.headless", "true");
        try {
            Files.createDirectories(folder);
            StringBuilder html = new StringBuilder();
            html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                    .append("<title>influence4j demo report</title>\n<style>\n")
                    .append("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\n")
                    .append("table{border-collapse:collapse}td,th{padding:4px 8px;text-align:center}\n")
                    .append("figure{display:inline-block;margin:4px;text-align:center}\n")
                    .append("figcaption{font-size:12px}img.digit{image-rendering:pixelated;border:1px solid #999}\n")
                    .append(".flipped{color:#b00;font-weight:bold}\n</style></head><body>\n");
            html.append("<h1>influence4j demo: finding mislabeled digits</h1>\n");
            html.append(String.format(Locale.ROOT, "<p>Backend %s. Model 64&rarr;" + DigitsDemo.HIDDEN + " (tanh)&rarr;10, %d parameters, trained"
                            + " with Adam for %d epochs on %d training images of which %d labels were flipped to another"
                            + " digit. Train accuracy %.3f (on the noisy labels), test accuracy %.3f. Hessian"
                            + " regularization &lambda; = %s. Computed in %.1f s.</p>\n", esc(r.backend()),
                    r.spec().numParameters(), r.options().epochs(), r.noisyLabels().length, r.flips(),
                    r.trainAccuracy(), r.testAccuracy(), r.options().lambda(), r.seconds()));

            html.append("<h2>1. Flipped labels found by self-influence</h2>\n<table><tr><th>inspected</th><th>images</th>"
                    + "<th>recall</th><th>random</th></tr>\n");
            for (double fraction : new double[] {0.05, 0.10, 0.20}) {
                html.append(String.format(Locale.ROOT, "<tr><td>%.0f%%</td><td>%d</td><td id=\"recall-%.0f\">%.2f</td>"
                                + "<td>%.2f</td></tr>\n", fraction * 100, r.inspected(fraction), fraction * 100,
                        r.recallAt(fraction), fraction));
            }
            html.append("</table>\n");
            writePng(recallCurve(r), folder.resolve("recall.png"));
            html.append("<figure><img src=\"recall.png\" alt=\"recall curve\" width=\"480\" height=\"360\">"
                    + "<figcaption>recall of flipped labels vs share inspected (dashed: random)</figcaption></figure>\n");
            writePng(histogram(r), folder.resolve("self-influence.png"));
            html.append("<figure><img src=\"self-influence.png\" alt=\"self-influence histogram\" width=\"480\""
                    + " height=\"360\"><figcaption>log10 self-influence: flipped (red) and clean (grey)</figcaption>"
                    + "</figure>\n");

            html.append("<h2>2. Test predictions and their most influential training images</h2>\n");
            html.append("<p>Proponents have positive influence: removing one would raise the loss on the test image."
                    + " Opponents have negative influence. Labels are the (possibly flipped) training labels.</p>\n");
            for (DigitsDemo.Explanation e : r.explanations()) {
                String name = "test-" + e.testIndex();
                writePng(digit(r.testPixels(), e.testIndex()), folder.resolve(name + ".png"));
                html.append(String.format(Locale.ROOT, "<h3>Test image %d: label %d, predicted %d (p = %.3f)</h3>\n",
                        e.testIndex(), e.label(), e.predicted(), e.confidence()));
                html.append(figure(name + ".png", "test image " + e.testIndex(), "label " + e.label(), false));
                html.append("<div><b>proponents</b><br>\n");
                html.append(neighbours(r, e.proponents(), folder, name + "-pro-"));
                html.append("</div><div><b>opponents</b><br>\n");
                html.append(neighbours(r, e.opponents(), folder, name + "-con-"));
                html.append("</div>\n");
            }
            html.append("</body></html>\n");
            Path index = folder.resolve("index.html");
            byte[] page = html.toString().getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(index, out -> out.write(page));
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("report folder " + folder.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    /** @return the file names of the pictures the report refers to (for checks) */
    static List<String> pictures(Path index) throws IOException {
        String html = Files.readString(index);
        List<String> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<img[^>]*\\ssrc=\"([^\"]+)\"").matcher(html);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static String neighbours(DigitsDemo.Result r, List<DigitsDemo.Neighbour> list, Path folder, String prefix)
            throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < list.size(); k++) {
            DigitsDemo.Neighbour nb = list.get(k);
            String file = prefix + k + ".png";
            writePng(digit(r.trainPixels(), nb.index()), folder.resolve(file));
            String caption = String.format(Locale.ROOT, "#%d label %d%s<br>%+.2e", nb.index(), nb.label(),
                    nb.flipped() ? " (flipped)" : "", nb.influence());
            sb.append(figure(file, "training image " + nb.index(), caption, nb.flipped()));
        }
        return sb.toString();
    }

    private static String figure(String file, String alt, String caption, boolean flipped) {
        return "<figure><img class=\"digit\" src=\"" + file + "\" alt=\"" + alt + "\" width=\"64\" height=\"64\">"
                + "<figcaption" + (flipped ? " class=\"flipped\"" : "") + ">" + caption + "</figcaption></figure>\n";
    }

    /** The 8x8 image of sample {@code index} (pixels 0..16, 16 = black ink), scaled 8x. */
    static BufferedImage digit(double[] pixels, int index) {
        BufferedImage image = new BufferedImage(8 * SCALE, 8 * SCALE, BufferedImage.TYPE_BYTE_GRAY);
        for (int row = 0; row < 8; row++) {
            for (int col = 0; col < 8; col++) {
                double v = pixels[index * 64 + row * 8 + col];
                int gray = 255 - (int) Math.round(Math.max(0, Math.min(16, v)) * 255 / 16);
                int rgb = (gray << 16) | (gray << 8) | gray;
                for (int dy = 0; dy < SCALE; dy++) {
                    for (int dx = 0; dx < SCALE; dx++) {
                        image.setRGB(col * SCALE + dx, row * SCALE + dy, rgb);
                    }
                }
            }
        }
        return image;
    }

    private static BufferedImage recallCurve(DigitsDemo.Result r) {
        Chart c = new Chart("share of training images inspected", "recall of flipped labels");
        double[] curve = r.recallCurve();
        int n = curve.length - 1;
        c.g.setColor(Color.GRAY);
        c.g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 6}, 0));
        c.g.drawLine(c.x(0), c.y(0), c.x(1), c.y(1));
        c.g.setColor(new Color(0x1f77b4));
        c.g.setStroke(new BasicStroke(2f));
        for (int k = 1; k <= n; k++) {
            c.g.drawLine(c.x((k - 1) / (double) n), c.y(curve[k - 1]), c.x(k / (double) n), c.y(curve[k]));
        }
        c.g.setColor(Color.BLACK);
        for (double f : new double[] {0.05, 0.10, 0.20}) {
            c.g.fillOval(c.x(f) - 3, c.y(r.recallAt(f)) - 3, 7, 7);
        }
        return c.done();
    }

    private static BufferedImage histogram(DigitsDemo.Result r) {
        double[] self = r.selfInfluence();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double[] logs = new double[self.length];
        for (int i = 0; i < self.length; i++) {
            logs[i] = Math.log10(Math.max(self[i], 1e-12));
            lo = Math.min(lo, logs[i]);
            hi = Math.max(hi, logs[i]);
        }
        if (hi <= lo) {
            hi = lo + 1;
        }
        int bins = 40;
        int[] clean = new int[bins];
        int[] dirty = new int[bins];
        int max = 1;
        for (int i = 0; i < self.length; i++) {
            int b = Math.min(bins - 1, (int) ((logs[i] - lo) / (hi - lo) * bins));
            if (r.flipped()[i]) {
                dirty[b]++;
            } else {
                clean[b]++;
            }
            max = Math.max(max, clean[b] + dirty[b]);
        }
        Chart c = new Chart(String.format(Locale.ROOT, "log10 self-influence (%.1f .. %.1f)", lo, hi),
                "training images (max " + max + ")");
        for (int b = 0; b < bins; b++) {
            int x0 = c.x(b / (double) bins);
            int x1 = c.x((b + 1) / (double) bins);
            int yClean = c.y(clean[b] / (double) max);
            int yAll = c.y((clean[b] + dirty[b]) / (double) max);
            c.g.setColor(new Color(0x999999));
            c.g.fillRect(x0, yClean, Math.max(1, x1 - x0 - 1), c.y(0) - yClean);
            c.g.setColor(new Color(0xd62728));
            c.g.fillRect(x0, yAll, Math.max(1, x1 - x0 - 1), yClean - yAll);
        }
        return c.done();
    }

    private static void writePng(BufferedImage image, Path file) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", bytes)) {
            throw new IOException("no PNG writer available for " + file);
        }
        AtomicFiles.write(file, out -> bytes.writeTo(out));
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** A 480x360 canvas with axes over the unit square. */
    private static final class Chart {
        static final int W = 480;
        static final int H = 360;
        static final int LEFT = 50;
        static final int BOTTOM = 40;
        static final int TOP = 15;
        static final int RIGHT = 15;
        final BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = image.createGraphics();

        Chart(String xLabel, String yLabel) {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawLine(x(0), y(0), x(1), y(0));
            g.drawLine(x(0), y(0), x(0), y(1));
            for (int t = 0; t <= 4; t++) {
                double v = t / 4.0;
                g.drawLine(x(v), y(0), x(v), y(0) + 4);
                g.drawLine(x(0) - 4, y(v), x(0), y(v));
                g.drawString(String.format(Locale.ROOT, "%.2f", v), x(v) - 12, y(0) + 16);
                g.drawString(String.format(Locale.ROOT, "%.2f", v), 8, y(v) + 4);
            }
            g.drawString(xLabel, LEFT + 60, H - 6);
            g.drawString(yLabel, LEFT + 6, TOP + 10);
        }

        int x(double v) {
            return LEFT + (int) Math.round(v * (W - LEFT - RIGHT));
        }

        int y(double v) {
            return H - BOTTOM - (int) Math.round(v * (H - BOTTOM - TOP));
        }

        BufferedImage done() {
            g.dispose();
            return image;
        }
    }
}
