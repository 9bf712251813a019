package org.influence4j.cli;

import java.io.PrintWriter;
import org.influence4j.api.progress.ProgressListener;

/**
 * The library's progress tasks ({@link ProgressListener}) as the command's progress bars
 * ({@link Progress}): one bar per task, moved by the task's real steps. A task started inside a
 * one-step task (the fit of a method that reports its own passes, a trainer's iterations) takes over
 * the display: the outer bar is closed, and the inner one runs until it finishes. A task started
 * inside a task of many steps (the CG solve of each chunk of a self-influence pass) is not drawn, so
 * the outer bar keeps counting. A task that ends before its announced steps (a Newton or L-BFGS run
 * that converged early) ends its bar at the steps it did.
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
        if (bar != null && total > 1) {
            depth++; // a sub-task of a task of many steps: counted, not drawn
            return;
        }
        if (bar != null) {
            bar.handOver();
        }
        bar = Progress.start(task, totalSteps, lines);
        total = totalSteps;
        done = 0;
        barDepth = depth;
        depth++;
    }

    @Override
    public void step(long steps) {
        if (bar != null && depth == barDepth + 1) {
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
