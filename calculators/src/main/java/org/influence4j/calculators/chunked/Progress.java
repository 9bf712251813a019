package org.influence4j.calculators.chunked;

import java.time.Duration;
import java.util.Optional;

/**
 * A snapshot of a chunked run.
 *
 * @param completed       chunks finished, including those found complete in the sink before the run
 * @param total           chunks of the whole result
 * @param skipped         chunks that were already complete in the sink (resumed run) and not recomputed
 * @param elapsed         time since this run started
 * @param chunksPerSecond chunks computed per second in this run (0 before the first one)
 * @param eta             estimated remaining time, empty before the first computed chunk
 */
public record Progress(long completed, long total, long skipped, Duration elapsed, double chunksPerSecond,
        Optional<Duration> eta) {

    /** @return completed / total in [0, 1] */
    public double fraction() {
        return total == 0 ? 1.0 : (double) completed / total;
    }

    @Override
    public String toString() {
        return String.format("%d/%d chunks (%.1f%%), %.2f chunks/s, ETA %s", completed, total, 100 * fraction(),
                chunksPerSecond, eta.map(d -> d.toSeconds() + " s").orElse("?"));
    }
}
