package org.influence4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.influence4j.api.DType;
import org.influence4j.api.data.Batch;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.inversion.InversionMethod;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.SequentialInfluenceCalculator;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.inversion.CgOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SparkInfluenceJob} on a real Spark standalone cluster on this machine, submitted the way the
 * README says.
 *
 * <p>The cluster is a Spark installation made of the Spark jars alone (a {@code SPARK_HOME} whose
 * {@code jars/} are the jars of {@code target/spark-cluster.classpath}: no influence4j class, no
 * backend). Master, Worker and driver are started exactly as {@code sbin/start-master.sh},
 * {@code sbin/start-worker.sh} and {@code bin/spark-submit} start them: Spark's launcher
 * ({@code org.apache.spark.launcher.Main}, what {@code bin/spark-class} runs) builds each java
 * command, which runs as a child process bound to 127.0.0.1 on ports the system picks. The Worker
 * launches the executors (two, one core each). The job gets everything else from the job jar and
 * the backends archive (unpacked by each executor, {@code -Dinfluence4j.backends=backends}), with
 * DJL offline and a DJL cache that starts empty, so the PyTorch natives come from the shipped
 * plugin folder. Training data is Parquet written by Spark in three files (read by the executors,
 * ordered by {@code id}); test data is CSV.
 *
 * <p>Checks: the job exits 0; the Zarr array equals the sequential calculator's influences (1e-6,
 * float64); every chunk file was written by an executor process of the Worker (the executors' logs
 * name block, executor id and pid; the driver's log names none).
 *
 * <p>Runs in {@code mvn verify} (failsafe: it needs the packaged job jar and archive). Every child
 * process and its descendants are killed after the test, also when it fails.
 */
class SparkStandaloneClusterIT {

    private static final int D = SparkTestData.D;
    private static final int N_TRAIN = 60;
    private static final int N_TEST = 10;
    private static final int TEST_CHUNK = 4;
    private static final int TRAIN_CHUNK = 25;
    private static final double LAMBDA = 1.0;
    private static final long START_TIMEOUT_S = 90;
    private static final long JOB_TIMEOUT_S = 300;
    private static final Pattern WROTE = Pattern.compile("executor (\\S+) \\(pid (\\d+)\\) wrote block (\\d+)\\.(\\d+)");

    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();
    private final Thread killer = new Thread(this::stopAll, "spark-cluster-it-cleanup");

    @AfterEach
    void stopCluster() throws IOException {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(killer);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // shutting down already, or never registered
        }
        keepLogs();
        Path jars = tmp.resolve("spark-home/jars");
        if (Files.isDirectory(jars)) { // links into the Maven repository: removed here, not followed by @TempDir
            try (Stream<Path> links = Files.list(jars)) {
                for (Path link : links.toList()) {
                    Files.deleteIfExists(link);
                }
            }
        }
    }

    /** The logs of master, worker, driver and executors into influence4j.spark.logDir (target/spark-cluster-it). */
    private void keepLogs() throws IOException {
        String dir = System.getProperty("influence4j.spark.logDir");
        if (dir == null) {
            return;
        }
        Path target = Path.of(dir);
        if (Files.isDirectory(target)) { // the logs of an earlier run
            try (Stream<Path> old = Files.walk(target)) {
                for (Path f : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
        for (Path root : List.of(tmp.resolve("logs"), tmp.resolve("work"))) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(Files::isRegularFile).filter(p -> {
                    String name = p.getFileName().toString();
                    return name.endsWith(".log") || name.endsWith(".launcher") || name.equals("stderr")
                            || name.equals("stdout");
                }).toList()) {
                    Path copy = target.resolve(root.getFileName().toString()).resolve(root.relativize(f).toString());
                    Files.createDirectories(copy.getParent());
                    Files.copy(f, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void jobJarOnAStandaloneClusterWritesTheSequentialInfluencesFromTheExecutors() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux")
                        && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")),
                "the backends archive holds the PyTorch natives for Linux x86-64 only; this is "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        Path jobJar = artifact("influence4j.spark.jobJar");
        Path archive = artifact("influence4j.spark.backendsArchive");
        Path clusterClasspath = artifact("influence4j.spark.clusterClasspath");
        Runtime.getRuntime().addShutdownHook(killer);
        long t0 = System.nanoTime();

        // --- inputs: spec, parameters, training data as Parquet (three files, rows shuffled), test data as CSV
        ModelSpec spec = ModelSpec.builder(D).dense(4).activation(Activation.TANH).dense(1)
                .loss(Loss.BINARY_LOGISTIC).dtype(DType.FLOAT64).build();
        double[] theta = spec.initialParameters(7);
        Batch train = SparkTestData.logistic(N_TRAIN, 1);
        Batch test = SparkTestData.logistic(N_TEST, 2);
        Path specFile = tmp.resolve("model.json");
        spec.write(specFile);
        Path params = tmp.resolve("model.safetensors");
        ParameterFiles.write(params, spec, theta, Map.of());
        Path trainParquet = tmp.resolve("train.parquet");
        writeParquet(train, trainParquet);
        Path testCsv = tmp.resolve("test.csv");
        writeCsv(test, testCsv);
        Path out = tmp.resolve("influences.zarr");
        long tData = System.nanoTime();

        // --- the reference: the sequential calculator, same route as the job (factors, then influences)
        HostArray expected;
        try (InfluenceWorker worker = SpecWorkerFactory.of("djl-pytorch", spec, theta, train, InversionMethod.CG,
                InfluenceOptions.of(LAMBDA), CgOptions.defaults()).create()) {
            SequentialInfluenceCalculator seq = new SequentialInfluenceCalculator(worker);
            HostArray factors = seq.influenceFactors(ChunkedData.of(test, TEST_CHUNK)).compute();
            expected = seq.influencesFromFactors(ChunkedArray.byRows(factors, TEST_CHUNK),
                    ChunkedData.of(train, TRAIN_CHUNK), InfluenceMode.UP).compute();
        }
        assertTrue(SparkTestData.maxAbs(expected.data()) > 1e-3, "reference influences are not trivially zero");
        long tReference = System.nanoTime();

        // --- a Spark installation of the Spark jars alone
        Path sparkHome = sparkHome(clusterClasspath);
        Path logs = Files.createDirectories(tmp.resolve("logs"));
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path djlCache = tmp.resolve("djl-cache");

        // --- Master and Worker, as sbin/start-master.sh and sbin/start-worker.sh run them
        Process master = start(sparkHome, logs.resolve("master.log"), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", "0", "--webui-port", "0");
        String masterUrl = awaitLog(master, logs.resolve("master.log"),
                Pattern.compile("Starting Spark master at (spark://\\S+)"), "master start").group(1);
        awaitLog(master, logs.resolve("master.log"), Pattern.compile("New state: ALIVE"), "master election");
        Process worker = start(sparkHome, logs.resolve("worker.log"), "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1", "--port", "0", "--webui-port", "0", "--cores", "2", "--memory", "2g",
                "--work-dir", work.toString(), masterUrl);
        awaitLog(worker, logs.resolve("worker.log"), Pattern.compile("Successfully registered with master"),
                "worker registration");
        long tCluster = System.nanoTime();

        // --- the job, as bin/spark-submit runs it (client mode: this child process is the driver)
        Path driverLog = logs.resolve("driver.log");
        Process submit = start(sparkHome, driverLog, "org.apache.spark.deploy.SparkSubmit",
                "--master", masterUrl,
                "--class", "org.influence4j.spark.SparkInfluenceJob",
                "--archives", archive + "#backends",
                "--conf", "spark.executor.extraJavaOptions=-Dinfluence4j.backends=backends -Dai.djl.offline=true",
                "--conf", "spark.executorEnv.DJL_CACHE_DIR=" + djlCache,
                "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
                "--driver-memory", "512m", "--executor-memory", "512m",
                "--executor-cores", "1", "--total-executor-cores", "2",
                // wait for both executors before the first job, so that both get tasks
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=60s",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false",
                jobJar.toString(),
                "spec=" + specFile, "params=" + params, "train=" + trainParquet, "orderBy=id", "test=" + testCsv,
                "out=" + out, "backend=djl-pytorch", "method=cg", "lambda=" + LAMBDA, "testChunk=" + TEST_CHUNK,
                "trainChunk=" + TRAIN_CHUNK, "dtype=f8", "zlib=0");
        if (!submit.waitFor(JOB_TIMEOUT_S, TimeUnit.SECONDS)) {
            fail("spark-submit did not finish within " + JOB_TIMEOUT_S + " s\n" + diagnostics(logs, work));
        }
        long tJob = System.nanoTime();
        assertEquals(0, submit.exitValue(), "spark-submit failed\n" + diagnostics(logs, work));

        // --- the result equals the sequential calculator's
        int rowChunks = (N_TEST + TEST_CHUNK - 1) / TEST_CHUNK;
        int colChunks = (N_TRAIN + TRAIN_CHUNK - 1) / TRAIN_CHUNK;
        Set<String> chunkFiles;
        try (Stream<Path> files = Files.list(out)) {
            chunkFiles = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(rowChunks * colChunks, chunkFiles.size(), "chunk files " + chunkFiles);
        assertArrayEquals(expected.data(), readZarr(out, rowChunks, colChunks), 1e-6);

        // --- the executors, not the driver, wrote every chunk file
        Map<String, String> writerOf = new TreeMap<>();
        Set<String> executorIds = new HashSet<>();
        Set<Long> pids = new HashSet<>();
        List<Path> executorLogs;
        try (Stream<Path> files = Files.walk(work)) {
            executorLogs = files.filter(p -> p.getFileName().toString().equals("stderr")).toList();
        }
        assertFalse(executorLogs.isEmpty(), "the worker launched no executor\n" + diagnostics(logs, work));
        for (Path log : executorLogs) {
            Matcher m = WROTE.matcher(Files.readString(log, StandardCharsets.UTF_8));
            while (m.find()) {
                String block = m.group(3) + "." + m.group(4);
                String previous = writerOf.put(block, m.group(1) + "/" + m.group(2));
                assertTrue(previous == null, "block " + block + " written twice: " + previous + ", " + writerOf.get(block));
                executorIds.add(m.group(1));
                pids.add(Long.parseLong(m.group(2)));
            }
        }
        assertEquals(chunkFiles, writerOf.keySet(), "every chunk file is named by an executor's log: " + writerOf);
        assertFalse(executorIds.contains("driver"), "executor ids " + executorIds);
        Set<Long> notExecutors = Set.of(ProcessHandle.current().pid(), submit.pid(), master.pid(), worker.pid());
        assertTrue(Collections.disjoint(pids, notExecutors),
                "writer pids " + pids + " include the test, driver, master or worker " + notExecutors);
        assertEquals(2, executorIds.size(), "both executors wrote chunks: " + writerOf);
        assertFalse(WROTE.matcher(Files.readString(driverLog, StandardCharsets.UTF_8)).find(),
                "the driver wrote no chunk");
        // the executors got the backend from the archive, and DJL extracted the natives from it, offline
        try (Stream<Path> files = Files.walk(work)) {
            assertTrue(files.anyMatch(p -> p.toString().endsWith("/backends/djl-pytorch/pytorch-native-cpu-2.7.1-linux-x86_64.jar")),
                    "the executors unpacked the archive into backends/djl-pytorch/");
        }
        try (Stream<Path> files = Files.walk(djlCache)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().equals("libtorch_cpu.so")),
                    "DJL extracted libtorch into spark.executorEnv.DJL_CACHE_DIR");
        }
        readmeShowsTheseOptions(jobJar, archive);

        double s = 1e-9;
        System.out.printf("SparkStandaloneClusterIT: inputs %.1f s, reference %.1f s, master + worker up %.1f s,"
                        + " spark-submit to exit %.1f s, total %.1f s; %d blocks by executors %s%n",
                (tData - t0) * s, (tReference - tData) * s, (tCluster - tReference) * s, (tJob - tCluster) * s, (System.nanoTime() - t0) * s,
                writerOf.size(), writerOf);
    }

    /** The README's spark-submit command uses the options of this test (so that the two agree). */
    private static void readmeShowsTheseOptions(Path jobJar, Path archive) throws IOException {
        Path readme = Path.of(System.getProperty("user.dir")).resolve("../README.md").normalize();
        if (!Files.isRegularFile(readme)) {
            return; // not run from the source tree
        }
        String text = Files.readString(readme, StandardCharsets.UTF_8).replaceAll("\\s*\\\\\n\\s*", " ");
        for (String option : List.of(
                "--class org.influence4j.spark.SparkInfluenceJob",
                "--archives distributed-spark/target/" + archive.getFileName() + "#backends",
                "--conf spark.executor.extraJavaOptions=\"-Dinfluence4j.backends=backends -Dai.djl.offline=true\"",
                "--conf spark.executorEnv.DJL_CACHE_DIR=",
                "distributed-spark/target/" + jobJar.getFileName() + " ")) {
            assertTrue(text.contains(option), "README.md's spark-submit command must show " + option);
        }
    }

    // ------------------------------------------------------------------ processes

    /**
     * Starts {@code mainClass} the way {@code bin/spark-class} does: Spark's launcher prints the java
     * command (NUL-separated, after a NUL line), which then runs as a child process of this JVM.
     */
    private Process start(Path sparkHome, Path log, String mainClass, String... args) throws Exception {
        List<String> launcher = new ArrayList<>(List.of(java(), "-Xmx128m", "-cp", sparkHome.resolve("jars") + "/*",
                "org.apache.spark.launcher.Main", mainClass));
        launcher.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(launcher).redirectError(log.resolveSibling(log.getFileName() + ".launcher").toFile());
        environment(pb, sparkHome);
        Process p = track(pb.start());
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("Spark's launcher failed for " + mainClass + ": " + printed
                    + Files.readString(log.resolveSibling(log.getFileName() + ".launcher")));
        }
        int start = printed.indexOf("\0\n");
        if (start < 0) {
            fail("Spark's launcher printed no command for " + mainClass + ": " + printed);
        }
        List<String> command = new ArrayList<>(List.of(printed.substring(start + 2).split("\0")));
        command.removeIf(String::isEmpty);
        ProcessBuilder child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        environment(child, sparkHome);
        return track(child.start());
    }

    private Process track(Process p) {
        synchronized (processes) {
            processes.add(p);
        }
        return p;
    }

    private static void environment(ProcessBuilder pb, Path sparkHome) {
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SPARK_") || k.startsWith("HADOOP_") || k.equals("DJL_CACHE_DIR"));
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_DIRS", sparkHome.resolveSibling("spark-local").toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
    }

    private static Matcher awaitLog(Process p, Path log, Pattern pattern, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                Matcher m = pattern.matcher(Files.readString(log, StandardCharsets.UTF_8));
                if (m.find()) {
                    return m;
                }
            }
            if (!p.isAlive()) {
                fail(what + ": the process exited with " + p.exitValue() + "\n" + tail(log, 60));
            }
            Thread.sleep(200);
        }
        fail(what + ": no '" + pattern + "' within " + START_TIMEOUT_S + " s\n" + tail(log, 60));
        return null;
    }

    /** Stops every child and its descendants (executors): politely, then forcibly. */
    private void stopAll() {
        List<Process> all;
        synchronized (processes) {
            all = new ArrayList<>(processes);
            processes.clear();
        }
        Collections.reverse(all);
        for (Process p : all) {
            List<ProcessHandle> descendants = p.descendants().toList();
            p.destroy();
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            descendants.forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    // ------------------------------------------------------------------ files

    private static Path artifact(String property) {
        String value = System.getProperty(property);
        if (value == null || !Files.isRegularFile(Path.of(value))) {
            fail(property + ": " + value + " is missing; run this test through Maven after package"
                    + " (mvn -pl distributed-spark -am verify -Dit.test=SparkStandaloneClusterIT)");
        }
        return Path.of(value);
    }

    /** SPARK_HOME with jars/ = links to the cluster's jars (Spark and its dependencies, nothing else) and conf/. */
    private Path sparkHome(Path classpathFile) throws IOException {
        Path home = tmp.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("conf"));
        for (String entry : Files.readString(classpathFile).trim().split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            String name = jar.getFileName().toString();
            assertFalse(name.startsWith("influence4j") || name.contains("djl") || name.contains("pytorch"),
                    "the cluster's jars hold no influence4j class and no backend: " + name);
            Files.createSymbolicLink(jars.resolve(name), jar);
        }
        try (Stream<Path> files = Files.list(jars)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().startsWith("spark-core_2.13-")),
                    "spark-core in " + classpathFile);
        }
        return home;
    }

    /** Rows (id, features, label) in a shuffled order, as three Parquet files written by Spark. */
    private static void writeParquet(Batch b, Path dir) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            List<Double> features = new ArrayList<>();
            for (int j = 0; j < D; j++) {
                features.add(b.x()[i * D + j]);
            }
            rows.add(RowFactory.create((long) i, features.toArray(new Double[0]), b.y()[i]));
        }
        Collections.shuffle(rows, new java.util.Random(3));
        StructType schema = new StructType()
                .add("id", DataTypes.LongType, false)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
                .add("label", DataTypes.DoubleType, false);
        SparkSession spark = SparkSession.builder().appName("write-parquet").master("local[1]")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            spark.createDataFrame(rows, schema).repartition(3).write().parquet(dir.toString());
        } finally {
            spark.stop();
        }
    }

    private static void writeCsv(Batch b, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.size(); i++) {
            for (int j = 0; j < D; j++) {
                sb.append(b.x()[i * D + j]).append(',');
            }
            sb.append(b.y()[i]).append('\n');
        }
        Files.writeString(file, sb.toString());
    }

    /** The [N_TEST, N_TRAIN] float64 array from raw (uncompressed) Zarr chunks of TEST_CHUNK x TRAIN_CHUNK. */
    private static double[] readZarr(Path dir, int rowChunks, int colChunks) throws IOException {
        double[] stored = new double[N_TEST * N_TRAIN];
        for (int i = 0; i < rowChunks; i++) {
            for (int j = 0; j < colChunks; j++) {
                ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(i + "." + j)))
                        .order(ByteOrder.LITTLE_ENDIAN);
                for (int a = 0; a < TEST_CHUNK; a++) {
                    for (int c = 0; c < TRAIN_CHUNK; c++) {
                        double v = bb.getDouble();
                        int row = i * TEST_CHUNK + a;
                        int col = j * TRAIN_CHUNK + c;
                        if (row < N_TEST && col < N_TRAIN) {
                            stored[row * N_TRAIN + col] = v;
                        }
                    }
                }
            }
        }
        return stored;
    }

    private static String diagnostics(Path logs, Path work) {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Stream.concat(Files.list(logs), Files.walk(work))) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".log") || p.getFileName().toString().equals("stderr"))
                    .sorted().toList()) {
                sb.append("---- ").append(f).append('\n').append(tail(f, 40));
            }
        } catch (IOException e) {
            sb.append("(logs unreadable: ").append(e).append(")");
        }
        return sb.toString();
    }

    private static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())) + "\n";
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e + ")\n";
        }
    }
}
