package org.influence4j.cli;

import java.io.PrintWriter;
import org.influence4j.api.progress.ProgressListener;

/**
 * The library's progress tasks ({@link ProgressListener}) as the command's progress bars
 * ({@link Progress}): one bar per task, moved by the task's real steps. A task started while
 * another is running (a fit that reports its own passes) takes over the display: the outer bar
 * is closed, and the inner one runs until it finishes. A task that ends before its announced
 * steps (a Newton or L-BFGS run that converged early) ends its bar at the steps it did.
 */
final class ProgressBars implements ProgressListener {

    private final PrintWriter lines;
    private Progress bar;
    private long total;
    private long done;
    private int depth;
    private int barDepth = -1;

    /** @param lines where plain bar lines go when there is no terminal */
    ProgressBars(PrintWriter lines) {
        this.lines = lines;
    }

    @Override
    public void started(String task, long totalSteps) {
        if (bar != null) {
            bar.handOver();
            bar = null;
        }
        bar = Progress.start(task, totalSteps, lines);
        total = totalSteps;
        done = 0;
        barDepth = depth;
        depth++;
    }

    @Override
    public void step(long steps) {
        if (bar != null) {
            bar.step(steps);
            done += steps;
        }
    }

    @Override
    public void finished() {
        depth--;
        if (barDepth == depth) {
            closeBar();
        }
    }

    private void closeBar() {
        if (bar != null) {
            if (done > 0 && done < total) {
                bar.endsAt(done); // an iterative task that converged before its step limit
            }
            bar.close();
            bar = null;
            barDepth = -1;
        }
    }
}
