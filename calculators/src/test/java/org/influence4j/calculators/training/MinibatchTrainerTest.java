package org.influence4j.calculators.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.data.HostArray;
import org.influence4j.io.SafeTensors;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.testing.Fixtures;
import org.influence4j.calculators.testing.HostModel;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MinibatchTrainerTest {

    private final ModelSpec softmax = Fixtures.dense(4, 3, Loss.SOFTMAX_CROSS_ENTROPY);
    private final Batch data = Fixtures.softmaxData(240, 4, 3, 61);

    private double initialObjective(double l2) {
        HostModel m = new HostModel(softmax, softmax.initialParameters(1));
        return new Objective(m, new InMemoryDataSource(data), ObjectiveOptions.ofL2(l2)).value(m.parameters());
    }

    @Test
    void sgdWithMomentumLowersTheLossAndIsReproducible() {
        MinibatchOptions opts = MinibatchOptions.of(Optimizer.sgd(0.1, 0.9), 5, 16, 7).withL2(1e-3);
        HostModel a = new HostModel(softmax, softmax.initialParameters(1));
        TrainingResult ra = new MinibatchTrainer(opts).train(a, new InMemoryDataSource(data));
        assertTrue(ra.loss() < 0.7 * initialObjective(1e-3), ra + " vs initial " + initialObjective(1e-3));
        assertEquals(5 * 15, ra.iterations(), "240/16 steps per epoch");
        HostModel b = new HostModel(softmax, softmax.initialParameters(1));
        TrainingResult rb = new MinibatchTrainer(opts).train(b, new InMemoryDataSource(data));
        assertArrayEquals(ra.parameters(), rb.parameters(), 0.0, "same seed, same run");
        HostModel c = new HostModel(softmax, softmax.initialParameters(1));
        TrainingResult rc = new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.1, 0.9), 5, 16, 8).withL2(1e-3))
                .train(c, new InMemoryDataSource(data));
        assertTrue(Fixtures.maxAbsDiff(ra.parameters(), rc.parameters()) > 0, "another seed shuffles differently");
    }

    @Test
    void adamLowersTheLossAndCheckpointsRoundTripWithTheirLearningRates(@TempDir Path dir) throws IOException {
        MinibatchOptions opts = MinibatchOptions.of(Optimizer.adam(0.05), 6, 32, 3).withLearningRateDecay(0.5)
                .withCheckpoints(dir.resolve("ckpt"), 2);
        HostModel model = new HostModel(softmax, softmax.initialParameters(1));
        TrainingResult r = new MinibatchTrainer(opts).train(model, new InMemoryDataSource(data));
        assertTrue(r.loss() < 0.7 * initialObjective(0), r + " vs initial " + initialObjective(0));

        List<Checkpoint> listed = Checkpoints.list(dir.resolve("ckpt"));
        assertEquals(r.checkpoints(), listed);
        assertEquals(List.of(2, 4, 6), listed.stream().map(Checkpoint::epoch).toList());
        assertEquals(List.of(0.025, 0.00625, 0.0015625), listed.stream().map(Checkpoint::learningRate).toList());
        assertArrayEquals(r.parameters(), Checkpoints.load(listed.get(2), softmax), 0.0, "last checkpoint = result");
        Map<String, String> meta = Checkpoints.readMetadata(listed.get(0).file());
        assertEquals("16", meta.get("step"), "2 epochs of ceil(240/32) = 8 steps");
        assertEquals("2", meta.get("epoch"));
        Map<String, HostArray> tensors = SafeTensors.read(listed.get(0).file());
        assertEquals(List.of("0.weight", "0.bias"), List.copyOf(tensors.keySet()));
        try (Stream<Path> files = Files.list(dir.resolve("ckpt"))) {
            assertEquals(3, files.count(), "no temporary files left");
        }
    }

    /**
     * Every checkpoint names its run; a rerun of the same run into the folder is accepted (same bytes),
     * another run (another seed) is refused before training, and TracIn's run check refuses a mix.
     */
    @Test
    void checkpointsOfAnotherRunAreNeverMixedIn(@TempDir Path dir) throws IOException {
        Path folder = dir.resolve("ckpt");
        MinibatchOptions opts = MinibatchOptions.of(Optimizer.sgd(0.1), 2, 32, 3).withCheckpoints(folder, 1);
        new MinibatchTrainer(opts).train(new HostModel(softmax, softmax.initialParameters(1)),
                new InMemoryDataSource(data));
        List<Checkpoint> first = Checkpoints.list(folder);
        String runId = Checkpoints.readMetadata(first.get(0).file()).get(Checkpoints.RUN_ID);
        assertEquals(runId, Checkpoints.readRun(first.get(1).file()).runId());
        assertEquals("3", Checkpoints.readRun(first.get(0).file()).identity().get("seed"));
        byte[] before = Files.readAllBytes(first.get(1).file());
        Files.writeString(folder.resolve(".checkpoint-epoch-00002.safetensors.123.tmp"), "left by a killed run");

        new MinibatchTrainer(opts).train(new HostModel(softmax, softmax.initialParameters(1)),
                new InMemoryDataSource(data));
        assertArrayEquals(before, Files.readAllBytes(first.get(1).file()), "a rerun of the same run writes the same");
        try (Stream<Path> files = Files.list(folder)) {
            assertEquals(2, files.count(), "the temporary file of the killed run is gone");
        }

        HostModel another = new HostModel(softmax, softmax.initialParameters(1));
        ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class, () -> new MinibatchTrainer(
                MinibatchOptions.of(Optimizer.sgd(0.1), 2, 32, 4).withCheckpoints(folder, 1))
                .train(another, new InMemoryDataSource(data)));
        assertTrue(e.differences().contains("seed is 3 there but 4 now"), e.getMessage());
        assertArrayEquals(softmax.initialParameters(1), another.parameters(), 0.0, "refused before training");

        Path mixed = dir.resolve("mixed");
        new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.1), 1, 32, 5).withCheckpoints(mixed, 1))
                .train(new HostModel(softmax, softmax.initialParameters(1)), new InMemoryDataSource(data));
        Files.copy(first.get(1).file(), mixed.resolve(first.get(1).file().getFileName()));
        ProvenanceMismatchException tracin = assertThrows(ProvenanceMismatchException.class,
                () -> Checkpoints.requireOneRun(Checkpoints.list(mixed)));
        assertTrue(tracin.getMessage().contains("seed is 3 there but 5 now")
                || tracin.getMessage().contains("seed is 5 there but 3 now"), tracin.getMessage());
        assertEquals(2, Checkpoints.deleteAll(mixed));
        assertEquals(List.of(), Checkpoints.list(mixed));
    }

    @Test
    void listingNamesMissingDirectoriesAndBadFiles(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Checkpoints.list(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        Checkpoints.write(dir, softmax, softmax.initialParameters(2), 0.1, 1, 10);
        Path stray = dir.resolve("other.safetensors");
        SafeTensors.write(stray, Map.of("x", new HostArray(new double[] {1}, new long[] {1},
                org.influence4j.api.DType.FLOAT32)), Map.of());
        IOException bad = assertThrows(IOException.class, () -> Checkpoints.list(dir));
        assertTrue(bad.getMessage().contains(stray.toString()) && bad.getMessage().contains("learning_rate"),
                bad.getMessage());
        Files.writeString(stray, "garbage");
        bad = assertThrows(IOException.class, () -> Checkpoints.list(dir));
        assertTrue(bad.getMessage().contains(stray.toString()), bad.getMessage());
        Files.delete(stray);
        assertEquals(1, Checkpoints.list(dir).size());
        IOException mismatch = assertThrows(IOException.class,
                () -> Checkpoints.load(Checkpoints.list(dir).get(0), Fixtures.dense(5, 3, Loss.SOFTMAX_CROSS_ENTROPY)));
        assertTrue(mismatch.getMessage().contains("checkpoint-epoch-00001.safetensors"), mismatch.getMessage());
    }

    @Test
    void failedCheckpointWriteLeavesNoPartialFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve(Checkpoints.fileName(1));
        Files.createDirectories(target);
        Files.writeString(target.resolve("occupied"), "x");
        IOException e = assertThrows(IOException.class,
                () -> Checkpoints.write(dir, softmax, softmax.initialParameters(2), 0.1, 1, 3));
        assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList(), "only the pre-existing folder, no temporary file");
        }

        MinibatchOptions opts = MinibatchOptions.of(Optimizer.sgd(0.1), 1, 64, 1).withCheckpoints(dir, 1);
        HostModel model = new HostModel(softmax, softmax.initialParameters(1));
        UncheckedIOException u = assertThrows(UncheckedIOException.class,
                () -> new MinibatchTrainer(opts).train(model, new InMemoryDataSource(data)));
        assertTrue(u.getMessage().contains(target.toString()), u.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void divergenceAndBadOptionsAreReported() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(-1));
        assertTrue(e.getMessage().startsWith("learningRate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(0.1, 1.0));
        assertTrue(e.getMessage().startsWith("momentum"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MinibatchOptions.of(Optimizer.adam(0.1), 0, 8, 1));
        assertTrue(e.getMessage().startsWith("epochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MinibatchOptions.of(Optimizer.adam(0.1), 1, 8, 1).withLearningRateDecay(0));
        assertTrue(e.getMessage().startsWith("learningRateDecay"), e.getMessage());

        ModelSpec mse = Fixtures.dense(3, 1, Loss.MSE);
        Batch reg = Fixtures.regressionData(50, 3, 1, 2);
        double[] x = reg.x().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] *= 100;
        }
        Batch scaled = new Batch(x, 3, reg.y(), 1);
        HostModel model = new HostModel(mse, new double[4]);
        IllegalStateException d = assertThrows(IllegalStateException.class,
                () -> new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(1.0), 50, 10, 1))
                        .train(model, new InMemoryDataSource(scaled)));
        assertTrue(d.getMessage().contains("diverged") && d.getMessage().contains("lower the learning rate"),
                d.getMessage());
    }
}
