package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.KeptCurvature;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native memory stays flat over 5,000 exact HVPs (RSS growth under 50 MB, i.e. under 10 KB per
 * HVP; the same HVP every time). A backend's test supplies {@link #backend()} and documents what
 * would leak on that backend.
 *
 * <p>Measurement: 2,000 HVPs of warm-up, then four rounds of 2,500 with the RSS read after each;
 * the bar applies to two rounds — twice the smallest of the last three round-to-round changes, since a
 * leak grows memory in each round and a one-off step or the collector's timing in some (a fresh CI
 * machine saw a single 50 MB step in one round of ND4J's MLP test, flat before and after, and once
 * +33 and +38 MB in two rounds in a row, then a 100 MB drop on a rerun) — on RSS minus the committed Java heap (the heap's own
 * growth and G1's late uncommit swing RSS by ±40 MB on ND4J, which frees its op contexts only
 * through the garbage collector). A leak grows native memory in every round; the one-off growth of
 * the JIT does not: C2's native compiler memory alone raised RSS by 5-45 MB during the first
 * ~1,500 HVPs in runs with a pinned heap, and a fresh CI machine once saw 75 MB in the 5,000 HVPs
 * right after a 2,000-HVP warm-up on ND4J. RSS is read after a full GC and a
 * short pause, because JDK 17's G1 returns shrunk heap regions to the OS concurrently; the minimum
 * of three such readings is used.
 */
public abstract class AbstractModelNativeMemoryTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    private static final Logger LOG = LoggerFactory.getLogger(AbstractModelNativeMemoryTest.class);

    static long rssKiB() throws IOException {
        return statusKiB("VmRSS");
    }

    /**
     * @param field a memory line of {@code /proc/self/status}, e.g. {@code VmRSS} or {@code VmHWM} (the peak)
     * @return its value in KiB
     */
    protected static long statusKiB(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }

    /** RSS after a full GC and G1's concurrent uncommit, so that Java-heap growth is not counted. */
    protected static long settledRssKiB() throws IOException {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring RSS", e);
            }
            min = Math.min(min, rssKiB());
        }
        return min;
    }

    static long committedHeapKiB() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1024;
    }

    @Test
    public void fiveThousandHvpsKeepRssFlat() throws IOException {
        ModelSpec spec = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        try (TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 79, 1))) {
            measure(model, TestSupport.randomBatch(spec, 64, 77), "an MLP, batch 64", 2500);
        }
    }

    /** The same bar for a layer graph (the LeNet-style CNN fixture: conv, max/avg pool, GELU; batch 8). */
    @Test
    public void fiveThousandHvpsOfACnnKeepRssFlat() throws IOException {
        GraphFixture f = GraphFixture.load("lenet");
        try (TwiceDifferentiable model = backend().createModel(f.spec(), f.parameters())) {
            measure(model, f.batch(), "the lenet CNN, batch 8", cnnHvpsPerRound());
        }
    }

    /**
     * The same bar for products from kept records ({@link TwiceDifferentiable#keepCurvature}, the
     * Hessian's forward and backward passes of the LeNet-style CNN fixture, its batch repeated to 64
     * samples): each record serves 10 products, then is closed and kept again, so that neither the
     * records (about 0.8 MB each: 250 per round of 2,500) nor a product's sweeps may leave native
     * memory behind. Skipped where the backend keeps nothing.
     */
    @Test
    public void keptCurvatureProductsOfACnnKeepRssFlat() throws IOException {
        GraphFixture f = GraphFixture.load("lenet");
        Batch batch = f.batch();
        while (batch.size() < 64) {
            batch = batch.concat(f.batch());
        }
        Batch samples = batch.slice(0, 64);
        try (TwiceDifferentiable model = backend().createModel(f.spec(), f.parameters())) {
            KeptCurvature[] kept = {model.keepCurvature(samples, Curvature.HESSIAN)};
            try {
                org.junit.jupiter.api.Assumptions.assumeTrue(kept[0].keptBytes() > 0,
                        "backend " + backend().name() + " keeps nothing");
                LOG.info("a kept Hessian record of 64 samples: {} bytes (estimate)", kept[0].keptBytes());
                int[] uses = {0};
                measure("products of kept Hessian records of the lenet CNN, batch 64, 10 per record",
                        model.numParameters(), cnnHvpsPerRound(), (v, scope) -> {
                            if (++uses[0] % 10 == 0) {
                                kept[0].close();
                                kept[0] = model.keepCurvature(samples, Curvature.HESSIAN);
                            }
                            try (Tensor row = v.reshape(1, v.shape()[0])) {
                                return kept[0].times(row, scope);
                            }
                        });
            } finally {
                kept[0].close();
            }
        }
    }

    /**
     * HVPs per measured round of the CNN test (2,500: 5,000 counted). A backend whose layer-graph
     * HVPs are slow may count fewer in the build and document its full 5,000-HVP measurement.
     */
    protected int cnnHvpsPerRound() {
        return 2500;
    }

    /**
     * Runs the measurement of the class comment on {@code model} (HVPs of one unit vector on
     * {@code batch}) and asserts the bar; logs the numbers.
     *
     * @param what     the model and batch, for the log
     * @param perRound HVPs per measured round (the bar counts two rounds)
     */
    protected void measure(TwiceDifferentiable model, Batch batch, String what, int perRound) throws IOException {
        measure(what, model.numParameters(), perRound, (v, scope) -> model.hvp(batch, v, scope));
    }

    /** A curvature product with the measured direction {@code v [p]}, its result owned by {@code scope}. */
    @FunctionalInterface
    public interface Product {
        /** @return the product, owned by {@code scope} (closed by the caller) */
        Tensor apply(Tensor v, TensorScope scope);
    }

    /**
     * {@link #measure(TwiceDifferentiable, Batch, String, int)} for any product of a unit vector
     * {@code [p]} (the same product every time).
     */
    protected void measure(String what, int p, int perRound, Product product) throws IOException {
        measure(backend(), what, p, perRound, product);
    }

    /**
     * The measurement of the class comment for any product of a unit vector {@code [p]} on
     * {@code backend} (the same product every time), for tests of what runs on top of a model (e.g. a
     * curvature operator); asserts the bar and logs the numbers.
     *
     * @param what     the product, for the log
     * @param perRound products per measured round (the bar counts two rounds)
     */
    public static void measure(Backend backend, String what, int p, int perRound, Product product)
            throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")),
                "needs Linux /proc");
        double[] v = TestSupport.randomUnitVector(p, 78);
        try (TensorScope scope = backend.newScope()) {
            Tensor vt = scope.fromArray(v, DType.FLOAT64, p);
            double first = 0;
            for (int i = 0; i < Math.min(2000, perRound); i++) {
                try (Tensor hv = product.apply(vt, scope)) {
                    first = hv.norm();
                }
            }
            int rounds = 4;
            long[] rss = new long[rounds + 1];
            long[] heap = new long[rounds + 1];
            long[] offHeap = new long[rounds + 1];
            rss[0] = settledRssKiB();
            heap[0] = committedHeapKiB();
            offHeap[0] = rss[0] - heap[0];
            long start = System.nanoTime();
            double last = 0;
            for (int r = 1; r <= rounds; r++) {
                for (int i = 0; i < perRound; i++) {
                    try (Tensor hv = product.apply(vt, scope)) {
                        if (r == rounds && i == perRound - 1) {
                            last = hv.norm();
                        }
                    }
                }
                rss[r] = settledRssKiB();
                heap[r] = committedHeapKiB();
                offHeap[r] = rss[r] - heap[r];
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            int iterations = 2 * perRound;
            // a leak grows native memory in every round, a one-off step (allocator pools, JIT) or the
            // garbage collector's timing in some: the growth is the smallest of the last three
            // round-to-round changes, counted for two rounds
            long smallest = Long.MAX_VALUE;
            for (int r = 2; r <= rounds; r++) {
                smallest = Math.min(smallest, offHeap[r] - offHeap[r - 1]);
            }
            double growthMb = 2 * smallest / 1024.0;
            LOG.info("native memory: {} HVPs ({}, p={}) changed RSS minus"
                            + " committed Java heap by {} MB (twice the smallest round-to-round change; per round of {}:"
                            + " RSS {} KiB, heap {} KiB; first round {} MB),"
                            + " {} ms per HVP", iterations, what, p, String.format("%.1f", growthMb), perRound,
                    java.util.Arrays.toString(rss), java.util.Arrays.toString(heap),
                    String.format("%.1f", (offHeap[1] - offHeap[0]) / 1024.0),
                    String.format("%.3f", seconds * 1000 / (rounds * perRound)));
            assertTrue(Math.abs(first - last) <= 1e-12 * first, "same HVP every time");
            assertTrue(growthMb < 50, "RSS grew by " + growthMb + " MB over " + iterations + " HVPs");
        }
    }
}
