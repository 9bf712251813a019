package org.influence4j.calculators.testing;

import java.util.ArrayList;
import java.util.List;
import org.influence4j.api.progress.ProgressListener;

/**
 * A {@link ProgressListener} that records every call as a line ({@code "started TASK N"},
 * {@code "resumed K"}, {@code "step K"}, {@code "finished"}) and counts the steps done, with an
 * optional action after each step (e.g. an interrupt).
 */
public final class RecordingProgress implements ProgressListener {

    private final List<String> events = new ArrayList<>();
    private final Runnable afterStep;
    private long done;

    /** Records only. */
    public RecordingProgress() {
        this(() -> { });
    }

    /** @param afterStep runs after each recorded step */
    public RecordingProgress(Runnable afterStep) {
        this.afterStep = afterStep;
    }

    @Override
    public synchronized void started(String task, long totalSteps) {
        events.add("started " + task + " " + totalSteps);
    }

    @Override
    public synchronized void resumed(long steps) {
        events.add("resumed " + steps);
        done += steps;
    }

    @Override
    public synchronized void step(long steps) {
        events.add("step " + steps);
        done += steps;
        afterStep.run();
    }

    @Override
    public synchronized void finished() {
        events.add("finished");
    }

    /** @return the recorded calls, in order */
    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    /** @return the steps done so far, resumed ones included */
    public synchronized long done() {
        return done;
    }
}
