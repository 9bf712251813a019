package org.influence4j.api.progress;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link ProgressListener#logging}: progress lines at INFO, rate limited. Not for concurrent calls. */
final class LoggingProgressListener implements ProgressListener {

    private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);

    private final long intervalNanos;
    private String task = "task";
    private long total;
    private long done;
    private long resumed;
    private long start;
    private long lastLine;

    LoggingProgressListener(long intervalMillis) {
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    @Override
    public void started(String name, long totalSteps) {
        task = name;
        total = totalSteps;
        done = 0;
        resumed = 0;
        start = System.nanoTime();
        lastLine = start;
        LOG.info("{}: started ({} steps)", task, totalSteps);
    }

    @Override
    public void resumed(long steps) {
        resumed += steps;
        done += steps;
        LOG.info("{}: resuming, {} of {} steps done by an earlier run", task, steps, total);
    }

    @Override
    public void step(long steps) {
        done += steps;
        long now = System.nanoTime();
        if (now - lastLine >= intervalNanos || (total > 0 && done >= total)) {
            lastLine = now;
            double seconds = (now - start) / 1e9;
            double rate = seconds > 0 ? (done - resumed) / seconds : 0;
            String eta = rate > 0 && total > 0 ? String.format(Locale.ROOT, "%.0f s", (total - done) / rate) : "?";
            LOG.info("{}: {}/{} steps ({}), {} steps/s, ETA {}", task, done, total,
                    total > 0 ? String.format(Locale.ROOT, "%.1f%%", 100.0 * done / total) : "?",
                    String.format(Locale.ROOT, "%.2f", rate), eta);
        }
    }

    @Override
    public void finished() {
        LOG.info("{}: finished in {} ms", task, (System.nanoTime() - start) / 1_000_000);
    }
}
