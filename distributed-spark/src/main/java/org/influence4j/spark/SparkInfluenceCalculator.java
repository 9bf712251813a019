package org.influence4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.influence4j.calculators.chunked.Chunk;
import org.influence4j.calculators.chunked.ChunkComputation;
import org.influence4j.calculators.chunked.ChunkExecutor;
import org.influence4j.calculators.chunked.ChunkFailedException;
import org.influence4j.calculators.chunked.ChunkIndex;
import org.influence4j.calculators.chunked.ChunkSink;
import org.influence4j.calculators.chunked.ChunkedInfluenceCalculator;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.InfluenceWorkerFactory;
import org.influence4j.calculators.chunked.ProgressTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the chunk tasks of {@link ChunkedInfluenceCalculator} on a {@link SparkSession}.
 *
 * <p><b>How.</b> The worker factory (model description + parameters + training data, e.g. a
 * {@link SpecWorkerFactory}) and the computation (its inputs) are broadcast once. The blocks to
 * compute are split into {@code tasks} groups; each group is one Spark job of one task, submitted
 * asynchronously so that all executor cores work at once. A task builds its own backend and model
 * with the factory (one model per task: no model is ever shared between threads), computes its
 * blocks, and
 * <ul>
 *   <li>writes them itself when the sink offers a {@link ChunkSink#remoteWriter() remote writer}
 *       (a {@link org.influence4j.calculators.chunked.ZarrSink} on storage that all executors
 *       share), returning only the block indices; or</li>
 *   <li>returns them to the driver, which gives them to the sink (memory, top-k).</li>
 * </ul>
 * Progress is reported per finished task. Resuming works as locally: blocks that the sink holds
 * already are not submitted.
 */
public final class SparkInfluenceCalculator implements ChunkedInfluenceCalculator, ChunkExecutor {

    private static final Logger LOG = LoggerFactory.getLogger(SparkInfluenceCalculator.class);

    private final SparkSession spark;
    private final InfluenceWorkerFactory factory;
    private final int tasks;

    /**
     * @param spark   the session (its context runs the jobs)
     * @param factory builds one fitted model per task on the executors; serializable
     * @param tasks   how many tasks (model builds) to split the blocks into; at least the number of
     *                executor cores keeps them all busy, more gives finer progress and load balance
     * @throws IllegalArgumentException naming a null or out-of-range argument
     */
    public SparkInfluenceCalculator(SparkSession spark, InfluenceWorkerFactory factory, int tasks) {
        if (spark == null) {
            throw new IllegalArgumentException("spark: must not be null");
        }
        if (factory == null) {
            throw new IllegalArgumentException("factory: must not be null; use SpecWorkerFactory.of(...)");
        }
        if (tasks <= 0) {
            throw new IllegalArgumentException("tasks: must be > 0, got " + tasks);
        }
        this.spark = spark;
        this.factory = factory;
        this.tasks = tasks;
    }

    /** With as many tasks as the context's default parallelism. */
    public SparkInfluenceCalculator(SparkSession spark, InfluenceWorkerFactory factory) {
        this(spark, factory, Math.max(1, spark.sparkContext().defaultParallelism()));
    }

    /** @return the number of tasks blocks are split into */
    public int tasks() {
        return tasks;
    }

    @Override
    public int numParameters() {
        return factory.numParameters();
    }

    @Override
    public ChunkExecutor executor() {
        return this;
    }

    @Override
    public void execute(ChunkComputation computation, List<ChunkIndex> todo, ChunkSink sink,
            ProgressTracker progress) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<InfluenceWorkerFactory> factoryB = jsc.broadcast(factory);
        Broadcast<ChunkComputation> computationB = jsc.broadcast(computation);
        Optional<ChunkSink.RemoteWriter> remote = sink.remoteWriter();
        List<ArrayList<ChunkIndex>> groups = split(todo, Math.min(tasks, todo.size()));
        LOG.info("running {} chunks of {} as {} Spark tasks ({})", todo.size(), computation, groups.size(),
                remote.isPresent() ? "executors write the sink" : "blocks return to the driver");
        List<JavaFutureAction<List<Serializable>>> futures = new ArrayList<>();
        BlockTask task = new BlockTask(factoryB, computationB, remote.orElse(null));
        try {
            for (ArrayList<ChunkIndex> group : groups) {
                futures.add(jsc.parallelize(List.of(group), 1).mapPartitions(task).collectAsync());
            }
            boolean[] consumed = new boolean[futures.size()];
            int left = futures.size();
            while (left > 0) {
                boolean progressed = false;
                for (int g = 0; g < futures.size(); g++) {
                    if (consumed[g] || !futures.get(g).isDone()) {
                        continue;
                    }
                    consumed[g] = true;
                    left--;
                    progressed = true;
                    for (Serializable item : futures.get(g).get()) {
                        if (item instanceof Chunk chunk) {
                            sink.accept(chunk);
                        }
                        progress.chunkDone();
                    }
                }
                if (!progressed) {
                    Thread.sleep(20);
                }
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted after " + progress.computed() + " chunks; rerun with the same"
                    + " sink to compute only the missing ones");
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            throw new IllegalStateException("a Spark task failed: " + e.getCause().getMessage() + "; finished chunks"
                    + " are kept — rerun with the same sink to compute only the missing ones", e.getCause());
        } finally {
            factoryB.destroy();
            computationB.destroy();
        }
    }

    /** Splits {@code todo} into {@code n} contiguous groups of nearly equal size. */
    static List<ArrayList<ChunkIndex>> split(List<ChunkIndex> todo, int n) {
        List<ArrayList<ChunkIndex>> groups = new ArrayList<>(n);
        for (int g = 0; g < n; g++) {
            int from = (int) ((long) g * todo.size() / n);
            int to = (int) ((long) (g + 1) * todo.size() / n);
            groups.add(new ArrayList<>(todo.subList(from, to)));
        }
        return groups;
    }

    /** One Spark task: builds a worker, computes its blocks, writes them or returns them. */
    static final class BlockTask implements FlatMapFunction<Iterator<ArrayList<ChunkIndex>>, Serializable> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<InfluenceWorkerFactory> factory;
        private final Broadcast<ChunkComputation> computation;
        private final ChunkSink.RemoteWriter writer;

        BlockTask(Broadcast<InfluenceWorkerFactory> factory, Broadcast<ChunkComputation> computation,
                ChunkSink.RemoteWriter writer) {
            this.factory = factory;
            this.computation = computation;
            this.writer = writer;
        }

        @Override
        public Iterator<Serializable> call(Iterator<ArrayList<ChunkIndex>> groups) {
            List<Serializable> out = new ArrayList<>();
            ChunkComputation c = computation.value();
            try (InfluenceWorker worker = factory.value().create()) {
                while (groups.hasNext()) {
                    for (ChunkIndex index : groups.next()) {
                        Chunk chunk;
                        try {
                            chunk = c.compute(index, worker);
                            if (writer != null) {
                                writer.write(chunk);
                            }
                        } catch (RuntimeException | Error e) {
                            throw new ChunkFailedException(index, e);
                        }
                        if (writer != null) {
                            // one line per block in the executor's log: which process wrote which chunk file
                            SparkEnv env = SparkEnv.get();
                            LOG.info("executor {} (pid {}) wrote block {}.{}", env == null ? "?" : env.executorId(),
                                    ProcessHandle.current().pid(), index.row(), index.col());
                        }
                        out.add(writer != null ? index : chunk);
                    }
                }
            }
            return out.iterator();
        }
    }

    @Override
    public String toString() {
        return "SparkInfluenceCalculator[" + spark.sparkContext().master() + ", " + tasks + " tasks, " + factory + "]";
    }
}
