package org.influence4j.calculators.chunked;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes blocks on several threads ({@code java.util.concurrent}), the single-machine analogue
 * of pyDVL's {@code DaskInfluenceCalculator}. Two ways to be thread-safe:
 * <ul>
 *   <li>{@link #perWorker}: every thread builds its own model with an {@link InfluenceWorkerFactory}
 *       (works with any backend);</li>
 *   <li>{@link #shared}: all threads share one model, which must declare
 *       {@link org.influence4j.api.influence.InfluenceFunctionModel#isThreadSafe()}; a model that
 *       does not is refused on more than one thread unless {@link ThreadSafetyCheck#DISABLED} is
 *       given (pyDVL's {@code DisableClientSingleThreadCheck}).</li>
 * </ul>
 * Threads pull blocks in row-major order and write each to the sink as soon as it is done, so at
 * most one block per thread is in memory. The first failure stops the run (threads finish their
 * current block) and is thrown as {@link ChunkFailedException}; an interrupt of the calling thread
 * interrupts the workers and throws {@link CancellationException}. Results equal those of
 * {@link SequentialInfluenceCalculator} block for block.
 */
public final class ParallelInfluenceCalculator implements ChunkedInfluenceCalculator, ChunkExecutor {

    private static final Logger LOG = LoggerFactory.getLogger(ParallelInfluenceCalculator.class);

    private final InfluenceWorker shared;
    private final InfluenceWorkerFactory factory;
    private final int threads;

    private ParallelInfluenceCalculator(InfluenceWorker shared, InfluenceWorkerFactory factory, int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads: must be > 0, got " + threads);
        }
        this.shared = shared;
        this.factory = factory;
        this.threads = threads;
    }

    /** {@link #shared(InfluenceWorker, int, ThreadSafetyCheck)} with the check enforced. */
    public static ParallelInfluenceCalculator shared(InfluenceWorker worker, int threads) {
        return shared(worker, threads, ThreadSafetyCheck.ENFORCED);
    }

    /**
     * All threads share {@code worker}'s model (not closed by this calculator).
     *
     * @throws IllegalArgumentException if the model is not thread-safe, {@code threads > 1} and the
     *     check is {@link ThreadSafetyCheck#ENFORCED}; or an argument is invalid
     */
    public static ParallelInfluenceCalculator shared(InfluenceWorker worker, int threads, ThreadSafetyCheck check) {
        if (worker == null) {
            throw new IllegalArgumentException("worker: must not be null");
        }
        if (check == null) {
            throw new IllegalArgumentException("check: must not be null; use ThreadSafetyCheck.ENFORCED");
        }
        if (threads > 1 && !worker.model().isThreadSafe()) {
            if (check == ThreadSafetyCheck.ENFORCED) {
                throw new IllegalArgumentException("worker: the influence model " + worker.model()
                        + " is not thread-safe (isThreadSafe() == false) and cannot be shared by " + threads
                        + " threads; use ParallelInfluenceCalculator.perWorker(factory, threads) to give every thread"
                        + " its own model, use 1 thread, or pass ThreadSafetyCheck.DISABLED if you are sure"
                        + " (pyDVL's DisableClientSingleThreadCheck)");
            }
            LOG.warn("thread-safety check disabled: sharing the non-thread-safe model {} between {} threads",
                    worker.model(), threads);
        }
        return new ParallelInfluenceCalculator(worker, null, threads);
    }

    /**
     * Every thread builds its own model with {@code factory} when it starts and closes it when done.
     *
     * @throws IllegalArgumentException if {@code factory} is null or {@code threads <= 0}
     */
    public static ParallelInfluenceCalculator perWorker(InfluenceWorkerFactory factory, int threads) {
        if (factory == null) {
            throw new IllegalArgumentException("factory: must not be null");
        }
        return new ParallelInfluenceCalculator(null, factory, threads);
    }

    /** @return the number of worker threads */
    public int threads() {
        return threads;
    }

    @Override
    public int numParameters() {
        return shared != null ? shared.numParameters() : factory.numParameters();
    }

    @Override
    public ChunkExecutor executor() {
        return this;
    }

    @Override
    public void execute(ChunkComputation computation, List<ChunkIndex> todo, ChunkSink sink,
            ProgressTracker progress) {
        int n = Math.min(threads, todo.size());
        AtomicInteger next = new AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            Thread thread = new Thread(() -> work(computation, todo, sink, progress, next, failure),
                    "influence4j-chunks-" + t);
            thread.setDaemon(true);
            workers.add(thread);
        }
        workers.forEach(Thread::start);
        try {
            for (Thread thread : workers) {
                thread.join();
            }
        } catch (InterruptedException e) {
            failure.compareAndSet(null, new CancellationException("interrupted"));
            workers.forEach(Thread::interrupt);
            for (Thread thread : workers) {
                joinQuietly(thread);
            }
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted after " + progress.computed() + " chunks; rerun with the "
                    + "same sink to compute only the missing ones");
        }
        RuntimeException e = failure.get();
        if (e != null) {
            throw e;
        }
    }

    private void work(ChunkComputation computation, List<ChunkIndex> todo, ChunkSink sink, ProgressTracker progress,
            AtomicInteger next, AtomicReference<RuntimeException> failure) {
        InfluenceWorker worker;
        try {
            worker = shared != null ? shared : factory.create();
        } catch (RuntimeException | Error e) {
            failure.compareAndSet(null, new IllegalStateException("creating a worker model failed: " + e, e));
            return;
        }
        try {
            while (failure.get() == null && !Thread.currentThread().isInterrupted()) {
                int k = next.getAndIncrement();
                if (k >= todo.size()) {
                    break;
                }
                ChunkIndex index = todo.get(k);
                try {
                    sink.accept(computation.compute(index, worker));
                } catch (RuntimeException | Error e) {
                    failure.compareAndSet(null, new ChunkFailedException(index, e));
                    break;
                }
                progress.chunkDone();
            }
        } finally {
            if (shared == null) {
                worker.close();
            }
        }
    }

    private static void joinQuietly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ParallelInfluenceCalculator[" + threads + " threads, "
                + (shared != null ? "shared " + shared.model() : "one model per worker") + "]";
    }
}
