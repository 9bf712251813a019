package org.influence4j.calculators.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs waves of tasks beside the calling thread: each task on a thread of one shared pool, the
 * calling thread doing its own share meanwhile, then waiting for all of them ({@link #await}). Used by
 * TracIn's checkpoint workers and the data passes over the curvature; public only so that the
 * module's packages can share it, not an API.
 *
 * <p>The pool's threads are daemons, kept for a minute after their last task: a thread that has run
 * before keeps its native allocator's arenas and the backend's per-thread state warm.
 */
public final class Waves {

    private static final ExecutorService POOL = Executors.newCachedThreadPool(new ThreadFactory() {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
            Thread t = new Thread(task, "influence4j-worker-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    });

    /** The most parameter memory that {@link #automaticThreads} gives the replicas together: 256 MiB. */
    public static final long AUTOMATIC_REPLICA_BYTES = 256L << 20;

    private Waves() {
    }

    /**
     * The automatic number of threads of work split over replicas of a model (one thread with the
     * model itself, one with each replica).
     *
     * @param bytesPerReplica the model's parameter memory
     * @param callerOpThreads the calling thread's intra-op threads ({@code Backend.callingThreadOpThreads()};
     *                        0 where the backend does not set them per thread)
     * @return the caller's intra-op threads, fewer where the replicas would hold more than
     *     {@link #AUTOMATIC_REPLICA_BYTES} of parameters, at least 1
     */
    public static int automaticThreads(long bytesPerReplica, int callerOpThreads) {
        long affordable = 1 + AUTOMATIC_REPLICA_BYTES / Math.max(1, bytesPerReplica);
        return (int) Math.max(1, Math.min(callerOpThreads, affordable));
    }

    /** @return {@code task}, started on a thread of the shared pool */
    public static <R> Future<R> submit(Callable<R> task) {
        return POOL.submit(task);
    }

    /**
     * Waits for every task of a wave, also when interrupted (the tasks use native memory of the
     * caller's call: they must finish before it returns; the interrupt is restored); once none of them
     * runs, rethrows {@code failure} (the calling thread's own) or else the first failure among them.
     *
     * @param what names a task in the message of a checked failure, e.g. "a checkpoint's task"
     * @return the tasks' results, in order
     */
    public static <R> List<R> await(List<Future<R>> wave, Throwable failure, String what) {
        List<R> results = new ArrayList<>(wave.size());
        boolean interrupted = false;
        for (Future<R> f : wave) {
            while (true) {
                try {
                    results.add(f.get());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    failure = failure == null ? e.getCause() : failure;
                    results.add(null);
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException(what + " failed: " + failure, failure);
        }
        return results;
    }
}
