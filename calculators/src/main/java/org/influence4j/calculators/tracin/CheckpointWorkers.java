package org.influence4j.calculators.tracin;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.influence4j.api.Backend;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.calculators.internal.Waves;

/**
 * The checkpoints of one call of a {@link CheckpointMethod}, computed {@link TracInOptions#threads()}
 * at a time.
 *
 * <p>With one thread, checkpoint c's task runs on the calling thread with the method's own model set
 * to c's parameters. With more, the checkpoints run in waves of {@code threads}: the first
 * checkpoint of a wave on the calling thread with the method's model, the i-th on a pool thread with
 * replica i of the model ({@link TwiceDifferentiable#replicate}); each of these threads first sets
 * the backend's intra-op threads to its share of the caller's ({@link Backend#setCallingThreadOpThreads}),
 * the caller too, so that no thread's native team waits idle on a core that the others need. The
 * caller receives a wave's results in checkpoint order once the whole wave is done, so that sums over
 * checkpoints are added in the same order as on one thread. Checkpoint c always runs with model and
 * root scope {@code c mod threads}: what a task keeps in its scope (a test representation) is there for
 * the later tasks of the same checkpoint. {@link #close} closes the scopes and the replicas, and
 * restores the model's parameters and the caller's intra-op threads.
 *
 * <p>Used by one thread (the caller's) at a time.
 */
final class CheckpointWorkers implements AutoCloseable {

    /**
     * One checkpoint's work.
     *
     * @param <R> the result
     */
    @FunctionalInterface
    interface Task<R> {
        /**
         * @param model      set to the checkpoint's parameters; used by this task alone while it runs
         * @param checkpoint the checkpoint's index
         * @param scope      owns what the task returns or keeps; closed by {@link #close}
         * @return the checkpoint's result
         */
        R run(TwiceDifferentiable model, int checkpoint, TensorScope scope);
    }

    /**
     * Takes the checkpoints' results on the calling thread, in checkpoint order.
     *
     * @param <R> the result
     */
    @FunctionalInterface
    interface Reduction<R> {
        void accept(int checkpoint, R result);
    }

    private final TwiceDifferentiable model;
    private final TracInCheckpoints checkpoints;
    private final double[] original;
    /** Slot i's model: the method's own for slot 0, replicas after it. */
    private final List<TwiceDifferentiable> models = new ArrayList<>();
    /** Slot i's root scope. */
    private final List<TensorScope> scopes = new ArrayList<>();
    private final int callerOpThreads;

    /**
     * @param requested {@link TracInOptions#threads()}
     * @throws IllegalArgumentException naming {@code threads} when more than one is requested for a
     *     model that cannot be replicated
     */
    CheckpointWorkers(TwiceDifferentiable model, TracInCheckpoints checkpoints, int requested) {
        this.model = model;
        this.checkpoints = checkpoints;
        this.original = model.parameters();
        Backend backend = model.backend();
        this.callerOpThreads = backend.callingThreadOpThreads();
        int threads = Math.min(requested == TracInOptions.AUTOMATIC_THREADS
                ? Waves.automaticThreads((long) model.numParameters() * model.spec().dtype().bytes(), callerOpThreads)
                : requested, checkpoints.size());
        models.add(model);
        scopes.add(backend.newScope());
        try {
            while (models.size() < threads) {
                scopes.add(backend.newScope());
                models.add(model.replicate());
            }
        } catch (UnsupportedOperationException e) {
            closeReplicas(1);
            if (requested != TracInOptions.AUTOMATIC_THREADS) {
                closeReplicas(0);
                throw notReplicable(requested, e);
            }
        } catch (RuntimeException | Error e) {
            closeReplicas(0);
            throw e;
        }
    }

    /**
     * Checks, by making one, that {@code model} has replicas where {@code requested} asks for more than
     * one thread.
     *
     * @throws IllegalArgumentException naming {@code threads} if it has none
     */
    static void requireReplicas(TwiceDifferentiable model, int requested) {
        if (requested > 1) {
            try (TwiceDifferentiable replica = model.replicate()) {
                replica.numParameters();
            } catch (UnsupportedOperationException e) {
                throw notReplicable(requested, e);
            }
        }
    }

    private static IllegalArgumentException notReplicable(int requested, UnsupportedOperationException e) {
        return new IllegalArgumentException("threads: " + requested + " needs replicas of the model, but "
                + e.getMessage() + "; use TracInOptions.withThreads(1)", e);
    }

    /**
     * Runs {@code task} for every checkpoint and hands each result to {@code reduction} on the calling
     * thread, in checkpoint order.
     *
     * @throws RuntimeException the first failure of a task in checkpoint order (after the rest of its
     *     wave has finished)
     */
    <R> void forEach(Task<R> task, Reduction<R> reduction) {
        int count = checkpoints.size();
        int threads = models.size();
        Backend backend = model.backend();
        for (int from = 0; from < count; from += threads) {
            int to = Math.min(from + threads, count);
            int share = Math.max(1, callerOpThreads / (to - from));
            List<Future<R>> others = new ArrayList<>(to - from - 1);
            for (int c = from + 1; c < to; c++) {
                int checkpoint = c;
                others.add(Waves.submit(() -> {
                    backend.setCallingThreadOpThreads(share);
                    return run(task, checkpoint);
                }));
            }
            R first = null;
            Throwable failure = null;
            try {
                if (threads > 1) {
                    backend.setCallingThreadOpThreads(share);
                }
                first = run(task, from);
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            List<R> results = Waves.await(others, failure, "a checkpoint's task");
            reduction.accept(from, first);
            for (int c = from + 1; c < to; c++) {
                reduction.accept(c, results.get(c - from - 1));
            }
        }
    }

    private <R> R run(Task<R> task, int checkpoint) {
        int slot = checkpoint % models.size();
        TwiceDifferentiable on = models.get(slot);
        on.setParameters(checkpoints.parametersView(checkpoint));
        return task.run(on, checkpoint, scopes.get(slot));
    }

    /**
     * Restores the caller's intra-op threads and the model's parameters, and closes the scopes and the
     * replicas (no task runs: {@link #forEach} returns after its waves).
     */
    @Override
    public void close() {
        try {
            if (models.size() > 1 && callerOpThreads > 0) {
                model.backend().setCallingThreadOpThreads(callerOpThreads);
            }
            model.setParameters(original);
        } finally {
            closeReplicas(0);
        }
    }

    /** Closes the scopes from slot {@code from} on and the replicas among their models. */
    private void closeReplicas(int from) {
        while (scopes.size() > from) {
            scopes.remove(scopes.size() - 1).close();
        }
        while (models.size() > Math.max(from, 1)) {
            models.remove(models.size() - 1).close();
        }
    }
}
