package org.influence4j.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar for one long step of a command (me.tongfei:progressbar). On a terminal
 * ({@link System#console()} present) it redraws one line on stderr; otherwise (pipes, CI, tests)
 * it writes a plain ASCII line to the given writer whenever the count changes, without carriage
 * returns or colours.
 * Closing it finishes the bar.
 */
final class Progress implements AutoCloseable {

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /**
     * @param task  the label shown before the bar
     * @param total the number of units of work, or 0 when unknown (the bar then counts without a total)
     * @param lines where plain lines go when there is no terminal
     */
    static Progress start(String task, long total, PrintWriter lines) {
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(task).setInitialMax(total > 0 ? total : -1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate();
        if (System.console() == null) {
            String[] last = {""};
            builder.setConsumer(new DelegatingProgressBarConsumer(line -> {
                int times = line.lastIndexOf(" (");
                String progress = (times < 0 ? line : line.substring(0, times)).strip();
                if (!progress.equals(last[0])) {
                    last[0] = progress;
                    lines.println(line.strip());
                    lines.flush();
                }
            }, 100));
        } else {
            builder.setConsumer(new ConsoleProgressBarConsumer(System.err));
        }
        return new Progress(builder.build());
    }

    /** Advances by {@code units}. */
    void step(long units) {
        bar.stepBy(units);
    }

    /** Sets the text shown after the bar. */
    void message(String text) {
        bar.setExtraMessage(text);
    }

    @Override
    public void close() {
        if (bar.getMax() > 0) {
            bar.stepTo(bar.getMax());
        }
        bar.close();
    }

    /** Lowers the bar's total to {@code units} (a task that ended early, e.g. an iteration that converged). */
    void endsAt(long units) {
        bar.maxHint(Math.max(1, units));
    }

    /** Ends the bar where it stands (its work continues under another bar). */
    void handOver() {
        bar.close();
    }
}
