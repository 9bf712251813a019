package org.influence4j.backend.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.influence4j.api.Backend;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.model.Activation;
import org.influence4j.api.model.Loss;
import org.influence4j.api.model.ModelSpec;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Native memory stays flat over 5,000 exact HVPs after a warm-up of 2,000 (RSS growth under 50 MB,
 * the same HVP every time). A backend's test supplies {@link #backend()} and documents what would
 * leak on that backend.
 *
 * <p>Measurement: the warm-up lets the JIT finish compiling the hot path (C2's native compiler
 * memory alone raised RSS by 5-45 MB during the first ~1,500 HVPs in runs with a pinned heap, and
 * was flat afterwards). RSS is read after a full GC and a short pause, because JDK 17's G1 returns
 * shrunk heap regions to the OS concurrently; the minimum of three such readings is used.
 */
public abstract class AbstractModelNativeMemoryTest {

    /** The backend under test (shared, not closed by the tests). */
    protected abstract Backend backend();

    private static final Logger LOG = LoggerFactory.getLogger(AbstractModelNativeMemoryTest.class);

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** RSS after a full GC and G1's concurrent uncommit, so that Java-heap growth is not counted. */
    static long settledRssKiB() throws IOException {
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

    @Test
    public void fiveThousandHvpsKeepRssFlat() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/status")),
                "needs Linux /proc");
        ModelSpec spec = ModelSpec.builder(64).dense(32).activation(Activation.TANH).dense(10)
                .loss(Loss.SOFTMAX_CROSS_ENTROPY).dtype(DType.FLOAT64).build();
        Batch batch = TestSupport.randomBatch(spec, 64, 77);
        int p = spec.numParameters();
        double[] v = TestSupport.randomUnitVector(p, 78);
        try (TensorScope scope = backend().newScope();
             TwiceDifferentiable model = backend().createModel(spec, TestSupport.parameters(spec, 79, 1))) {
            Tensor vt = scope.fromArray(v, DType.FLOAT64, p);
            double first = 0;
            for (int i = 0; i < 2000; i++) {
                try (Tensor hv = model.hvp(batch, vt, scope)) {
                    first = hv.norm();
                }
            }
            java.lang.management.MemoryMXBean heap = java.lang.management.ManagementFactory.getMemoryMXBean();
            long before = settledRssKiB();
            long heapBefore = heap.getHeapMemoryUsage().getCommitted() / 1024;
            long start = System.nanoTime();
            double last = 0;
            int iterations = 5000;
            for (int i = 0; i < iterations; i++) {
                try (Tensor hv = model.hvp(batch, vt, scope)) {
                    if (i == iterations - 1) {
                        last = hv.norm();
                    }
                }
                if (LOG.isDebugEnabled() && (i + 1) % 1000 == 0) {
                    LOG.debug("after {} HVPs: RSS {} KiB", i + 1, rssKiB());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long after = settledRssKiB();
            long heapAfter = heap.getHeapMemoryUsage().getCommitted() / 1024;
            double growthMb = (after - before) / 1024.0;
            LOG.info("native memory: {} HVPs (p={}, batch 64, float64) changed RSS by {} MB ({} -> {} KiB),"
                            + " {} ms per HVP; committed Java heap {} -> {} KiB", iterations, p,
                    String.format("%.1f", growthMb), before, after, String.format("%.3f", seconds * 1000 / iterations),
                    heapBefore, heapAfter);
            assertTrue(Math.abs(first - last) <= 1e-12 * first, "same HVP every time");
            assertTrue(growthMb < 50, "RSS grew by " + growthMb + " MB over " + iterations + " HVPs");
        }
    }
}
